"""The app store: developers, packages, review and publishing, installs and crash reports."""
