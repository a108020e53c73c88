"""Feature flags in AppConfig's format, rolled out by percentage and watched by a gate."""
