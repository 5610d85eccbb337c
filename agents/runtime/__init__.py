"""The agent runtime: the OpenAI Agents SDK, the offline demo model, and run execution.

Plain Python (no HTTP); the services in ``agents.services`` drive it.
"""
