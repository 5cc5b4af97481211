"""Artifact files, stored once per content in ``DATA/artifacts/<sha256>``.

Written to a temporary name and renamed after the digests are known, so a half-written
upload is never served.
"""
import hashlib
import os
import tempfile


class ArtifactStore:
    def __init__(self, data_dir):
        self.root = os.path.join(data_dir, "artifacts")
        os.makedirs(self.root, exist_ok=True)

    def path(self, sha256):
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 digest: %r" % sha256)
        return os.path.join(self.root, sha256)

    def put(self, data):
        """Store `data` (bytes); returns (size, sha256, sha1, md5) as hex digests."""
        digests = (hashlib.sha256(data).hexdigest(), hashlib.sha1(data).hexdigest(), hashlib.md5(data).hexdigest())
        final = self.path(digests[0])
        if not os.path.exists(final):
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
        return (len(data),) + digests

    def open(self, sha256):
        return open(self.path(sha256), "rb")
