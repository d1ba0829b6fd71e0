"""The scheduler: claims runnable steps with a lease, runs them, and advances executions."""
