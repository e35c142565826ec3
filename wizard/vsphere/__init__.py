"""The only package that imports pyVmomi.

It returns frozen dataclasses; no managed object ever leaves it.
"""
