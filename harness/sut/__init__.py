"""Systems under test: the contract (base), the registry of adapters, and built-in adapters."""
