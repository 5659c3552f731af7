"""One file per schema revision; never edit a shipped one, add the next."""
