"""Secret rotation: the four Secrets Manager steps over a store with the three stages."""
