"""The pages readers see: the list of open surveys, the form and the thanks page
(``form``), and sending the form (``submit``).

The same routes serve the form on its own page and inside a blog post's iframe
(``?embed=1``): the embedded flow (errors, thanks, closed) stays in the frame,
and nothing in it depends on cookies, which cross-site frames often lose.
"""

from __future__ import annotations

from survey.web.public import form, results, submit  # noqa: F401 - each adds its routes to the router
from survey.web.public.common import router
from survey.web.public.form import form_page

__all__ = ["form_page", "router"]
