-- What collect learnt about each in-place export file (a `path` source's files, read where they
-- lie): the SHA-256 of its content at a given size and modification time. A later run that finds the
-- same size and mtime takes the digest from here instead of reading the file again, so an unchanged
-- folder of exports costs one stat() per file. A file whose size or mtime changed is hashed again
-- (and, when its content is one already imported, still skipped as before).
CREATE TABLE file_cache (
    source      VARCHAR NOT NULL,      -- configured source name
    path        VARCHAR NOT NULL,      -- the file, as listed from the source's path
    size_bytes  BIGINT NOT NULL,
    mtime_ns    BIGINT NOT NULL,       -- modification time, nanoseconds since the epoch
    sha256      VARCHAR NOT NULL,      -- of the content at that size and mtime
    hashed_at   TIMESTAMPTZ NOT NULL,  -- when the file was last read to compute it
    PRIMARY KEY (source, path)
);
