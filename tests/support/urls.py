"""Sample values for URL parameters, so the access matrix can request every pattern."""

from __future__ import annotations

import re


class SampleKwargs:
    """Fill a route's converters from objects created by the ``url_objects`` fixture."""

    converter = re.compile(r"<(?:(?P<type>\w+):)?(?P<name>\w+)>")

    def fill(self, route: str, objects: dict[str, object], *, url_name: str | None = None) -> str:
        """Values are looked up as "<url name>:<parameter>" first, then "<parameter>"."""

        def value(match: re.Match) -> str:
            name = match["name"]
            for key in (f"{url_name}:{name}", name):
                if key in objects:
                    return str(objects[key])
            raise KeyError(f"No sample value for {name!r} in {route!r} ({url_name}): add one to url_objects.")

        return self.converter.sub(value, route)


sample_kwargs = SampleKwargs()
