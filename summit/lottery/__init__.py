"""The two-stage lottery (loting).

Register import, the invitation draw, registration and the stratified selection.
"""
