"""Scripts that print performance figures; run them by hand, never as tests."""
