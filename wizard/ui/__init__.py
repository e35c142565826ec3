"""The only package that imports PySide6: the wizard, its pages and the worker-thread bridge."""
