"""Fixtures shared by the test modules.

`single_thread`: tiny tensors on a busy 2-core machine run faster with one intra-op thread (no OpenMP
hand-off costs); a module opts in with `pytestmark = pytest.mark.usefixtures("single_thread")`.
"""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def single_thread():
    """One torch intra-op thread for the whole module; the previous count is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
