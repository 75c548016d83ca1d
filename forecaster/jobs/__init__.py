"""End-to-end work on the store: the command actions and the nightly job."""
