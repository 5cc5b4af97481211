import os

APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps")
