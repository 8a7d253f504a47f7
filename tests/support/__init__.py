"""What the test modules share: the app and its databases (``app``), HTTP and CLI helpers, the
browser, and each part's builders. Test modules import from here, never from each other
(``tests/test_layout.py`` checks it); shared fixtures live in ``tests/conftest.py``."""

import pkgutil

import pytest

# The helpers assert too: pytest rewrites their asserts as it does the tests' own.
pytest.register_assert_rewrite(*(f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__)))
