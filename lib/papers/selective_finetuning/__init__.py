"""Bianchi et al., *Improving Image Classification Robustness through Selective CNN-Filters Fine-Tuning*.

The parts of this package: lib/papers/__init__.py.
"""
