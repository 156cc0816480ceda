"""Benchmarks: crmsync side by side with the peer an issue names, results in bench/RESULTS.md."""
