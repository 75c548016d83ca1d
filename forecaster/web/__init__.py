"""forecaster serve: marketing's web page and JSON API (FastAPI), routers per area over the library."""
