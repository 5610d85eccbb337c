"""Limits and defaults for agent runs."""

from config.env import env

# The longest input a run accepts, in characters.
AGENT_RUN_INPUT_LIMIT = env.int("AGENT_RUN_INPUT_LIMIT", default=32000)
# A run that takes longer than this many seconds ends `failed`.
AGENT_RUN_TIMEOUT = env.float("AGENT_RUN_TIMEOUT", default=300.0)
# A running run whose worker has sent no heartbeat for this many seconds past
# its start is failed by the sweep (workflows are resumed elsewhere). It covers
# a worker's first heartbeat reaching the cache.
AGENT_RUN_DEAD_WORKER_GRACE = env.float("AGENT_RUN_DEAD_WORKER_GRACE", default=60.0)
# A run still queued this many seconds after its task was sent gets its task
# sent again by the sweep (a message can be lost with a killed worker).
AGENT_RUN_REQUEUE_AFTER = env.float("AGENT_RUN_REQUEUE_AFTER", default=300.0)
# Model turns allowed in one run before it ends `failed`.
AGENT_RUN_MAX_TURNS = env.int("AGENT_RUN_MAX_TURNS", default=10)
# Earlier turns of a conversation a run sees (each: the message and the answer).
AGENT_CONVERSATION_TURNS = env.int("AGENT_CONVERSATION_TURNS", default=20)
# Retries of a model call after a rate limit (429), a server error (5xx) or a
# network failure, with exponential backoff from AGENT_PROVIDER_RETRY_DELAY s.
AGENT_PROVIDER_RETRIES = env.int("AGENT_PROVIDER_RETRIES", default=3)
AGENT_PROVIDER_RETRY_DELAY = env.float("AGENT_PROVIDER_RETRY_DELAY", default=1.0)
# A workflow's agent node with retries waits this many seconds before its
# second try, doubling for each try after (at most 30 s).
WORKFLOW_RETRY_DELAY = env.float("WORKFLOW_RETRY_DELAY", default=1.0)
# The site-wide OpenAI key that `openai/...` models use ("" for none); a user's
# own key, saved in their settings, takes its place for their runs.
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
# Where OpenAI's API is ("" for api.openai.com); an OpenAI-compatible server or
# a proxy can stand in.
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
# A site-wide OpenAI-compatible endpoint (vLLM, LM Studio, llama.cpp, DeepSeek,
# Groq...) for `compatible/...` models, spoken to over Chat Completions; the
# models it lists (GET <base>/models) are offered to everyone, and staff may
# add them to the catalog to price them. A user's own endpoint takes its place.
OPENAI_COMPATIBLE_BASE_URL = env.str("OPENAI_COMPATIBLE_BASE_URL", default="")
OPENAI_COMPATIBLE_API_KEY = env.str("OPENAI_COMPATIBLE_API_KEY", default="")
# An Ollama server the operator runs: the models it lists (GET /api/tags) are
# offered as `ollama/<name>` and run over its OpenAI-compatible API (/v1).
# "" turns the probe off; when nothing answers there, nothing changes.
OLLAMA_BASE_URL = env.str("OLLAMA_BASE_URL", default="http://127.0.0.1:11434")
# How long listing a server's models may take (seconds, per request) and how
# long the list (or the absence of an answer) is remembered.
MODEL_DISCOVERY_TIMEOUT = env.float("MODEL_DISCOVERY_TIMEOUT", default=1.0)
MODEL_DISCOVERY_CACHE_SECONDS = env.int("MODEL_DISCOVERY_CACHE_SECONDS", default=60)
# Azure OpenAI for the whole site: the resource's endpoint
# (https://<resource>.openai.azure.com), its key, the API version, and the
# deployment names to offer as `azure/<deployment>`.
AZURE_OPENAI_ENDPOINT = env.str("AZURE_OPENAI_ENDPOINT", default="")
AZURE_OPENAI_API_KEY = env.str("AZURE_OPENAI_API_KEY", default="")
AZURE_OPENAI_API_VERSION = env.str("AZURE_OPENAI_API_VERSION", default="2024-10-21")
AZURE_OPENAI_DEPLOYMENTS = env.list("AZURE_OPENAI_DEPLOYMENTS", default=[])
# Site-wide keys for the providers reached through LiteLLM, and where their
# APIs are ("" for the provider's own address; a proxy can stand in).
ANTHROPIC_API_KEY = env.str("ANTHROPIC_API_KEY", default="")
ANTHROPIC_BASE_URL = env.str("ANTHROPIC_BASE_URL", default="")
GEMINI_API_KEY = env.str("GEMINI_API_KEY", default="")
GEMINI_BASE_URL = env.str("GEMINI_BASE_URL", default="")
# Seconds one model request may take before it counts as failed (and is
# retried, then handed to the agent's fallback model if it has one).
AGENT_MODEL_REQUEST_TIMEOUT = env.float("AGENT_MODEL_REQUEST_TIMEOUT", default=120.0)
