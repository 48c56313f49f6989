"""The sandbox LMS's endpoints, one module per remote API."""
