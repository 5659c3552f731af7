"""The tracker's database: schema, migrations and queries, shared by the local tracker (a SQLite
file on this machine) and the tracker service. Neither of those imports the other."""
