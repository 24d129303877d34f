"""The database schema: ordered SQL migrations (`NNNN_name.sql`), applied by `db.connect()`.

Never edit a migration once it has been released; add a new one. `db.connect()` refuses to open a
database whose recorded checksum of an applied migration differs from the file.
"""
