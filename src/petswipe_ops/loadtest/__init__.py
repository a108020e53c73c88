"""k6 load-test campaigns: running the scenarios, reading their summaries, keeping history."""
