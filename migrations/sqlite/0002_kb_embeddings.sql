-- Knowledge base embedding cache: one vector per (model, chunk content hash). Global data derived
-- from the shipped knowledge base, not a runner's data: no user_id (listed in store::GLOBAL_TABLES).
-- Vectors are little-endian f32, `dims` of them.
CREATE TABLE kb_embeddings (
    model         TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    dims          INTEGER NOT NULL,
    vector        BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (model, content_hash)
);
