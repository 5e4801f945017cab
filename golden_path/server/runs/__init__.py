"""Runs: admission (tier limits), execution of the agent, and the events it emits."""
