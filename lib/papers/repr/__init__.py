"""RePr: Improved Training of Convolutional Filters, Prakash thesis ch. 5 (see lib/papers/__init__.py for the parts)."""
