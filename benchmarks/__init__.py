"""Benchmarks of aiodockerapi side by side with aiodocker, docker-py and a bare aiohttp floor.

Run the whole suite with ``python -m benchmarks`` (``--quick`` for a few-second smoke run);
``python -m benchmarks.capture`` re-records the payloads the canned server replays.
"""
