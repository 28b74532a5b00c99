"""The at-risk forecast: how likely each open proposal is to be submitted before its deadline."""
