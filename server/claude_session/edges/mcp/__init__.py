"""The MCP stdio server ``session``: its tools over ``Core``, its stdin reader, its front."""
