"""The scenario simulator (synthetic ground truth) and scoring of results against it."""
