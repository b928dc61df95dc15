"""Reads: what each page shows, in a fixed number of queries however many rows there are."""
