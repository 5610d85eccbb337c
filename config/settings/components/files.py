"""Files: uploads, ingestion and embeddings."""

from config.env import env

# The largest upload accepted, in megabytes.
FILES_MAX_UPLOAD_MB = env.int("FILES_MAX_UPLOAD_MB", default=25)
# Chunk sizes in the embedding model's tokens (files.embeddings.token_count);
# each file may choose its own, 32 to 512 (the overlap less than half).
FILES_CHUNK_SIZE = env.int("FILES_CHUNK_SIZE", default=200)
FILES_CHUNK_OVERLAP = env.int("FILES_CHUNK_OVERLAP", default=40)
# "local": all-MiniLM-L6-v2 (int8 ONNX) on the CPU, offline. "openai": the
# embeddings API of OpenAI or a compatible server, asked for 384 dimensions.
EMBEDDINGS_PROVIDER = env.str("EMBEDDINGS_PROVIDER", default="local")
EMBEDDINGS_MODEL = env.str("EMBEDDINGS_MODEL", default="text-embedding-3-small")
EMBEDDINGS_API_KEY = env.str(
    "EMBEDDINGS_API_KEY", default=env.str("OPENAI_API_KEY", default="")
)
EMBEDDINGS_BASE_URL = env.str(
    "EMBEDDINGS_BASE_URL", default=env.str("OPENAI_BASE_URL", default="")
)
# onnxruntime's threads per process (0: one per core).
EMBEDDINGS_THREADS = env.int("EMBEDDINGS_THREADS", default=0)
