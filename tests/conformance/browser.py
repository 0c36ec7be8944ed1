#!/usr/bin/env python3
"""A headless stand-in for a person's browser, used as $BROWSER by the conformance client.

Loads the authorization URL mcpfleet opens and follows the authorization server's redirect to
mcpfleet's loopback listener, as a browser does once the person consented. mcpfleet takes the
same path as with a real browser; only the person is missing.
"""

import sys
import urllib.error
import urllib.request


class Stop(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def main() -> int:
    url = sys.argv[1]
    opener = urllib.request.build_opener(Stop)
    try:
        opener.open(url, timeout=10)
        # A page that waits for a person: a browser would show it and stay open.
        print(f"browser.py: {url} shows a page and waits for a person", file=sys.stderr)
        return 0
    except urllib.error.HTTPError as answer:
        location = answer.headers.get("Location")
        if not (300 <= answer.code < 400 and location):
            print(f"browser.py: {url} answered HTTP {answer.code}", file=sys.stderr)
            return 1
    # The loopback listener answers with a page; its content does not matter here.
    urllib.request.urlopen(location, timeout=10).read()
    return 0


if __name__ == "__main__":
    sys.exit(main())
