"""Pixel Deflection: defending against adversarial attacks, Prakash thesis ch. 4 (see lib/papers/__init__.py for the parts)."""
