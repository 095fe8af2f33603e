"""Packages of the statekit distribution (the rest of the metadata is in pyproject.toml).

The repository keeps the constructs in ``modules/`` (cdktf.json's ``main.py`` imports
them from there); the wheel ships them as ``statekit_iac`` so nothing generic
(``modules``, ``handlers``) lands at the top of site-packages. The constructs import
each other relatively, so the same files work under both names.
"""

from setuptools import find_packages, setup

IAC_PACKAGE = "statekit_iac"
IAC_FOLDER = "modules"

setup(
    packages=[
        *find_packages(include=["statekit", "statekit.*"]),
        IAC_PACKAGE,
        *(f"{IAC_PACKAGE}.{package}" for package in find_packages(IAC_FOLDER)),
    ],
    package_dir={IAC_PACKAGE: IAC_FOLDER},
)
