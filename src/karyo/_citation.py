"""How to cite karyo: :func:`citation`, as ``mahotas.citation``."""

from __future__ import annotations

__all__ = ["citation", "citation_text", "short_citation_text"]

# karyo has no paper of its own: it reimplements mahotas's API and algorithms,
# so the work to credit in a publication is mahotas's, with karyo's version.
citation_text = """
If you use karyo please cite mahotas, whose API and algorithms it reimplements,
and name karyo (with its version, karyo.__version__) in your methods:

    Coelho, Luis Pedro, 2013. Mahotas: Open source software for scriptable
    computer vision. Journal of Open Research Software, 1:e3, DOI:
    https://dx.doi.org/10.5334/jors.ac


In BibTex format:

@article{coelho:mahotas,
    title = {Mahotas: Open source software for scriptable computer vision},
    author = {Luis Pedro Coelho},
    journal = {Journal of Open Research Software},
    year = {2013},
    volume = {1},
    doi = {10.5334/jors.ac},
    url = {https://dx.doi.org/10.5334/jors.ac}
}
"""

short_citation_text = """If you use karyo in a scientific publication, please cite mahotas
    Coelho, LP (2013). https://dx.doi.org/10.5334/jors.ac
and name karyo and its version in your methods.
"""


def citation(print_out: bool = True, short: bool = False) -> str:
    """Return (and by default print) how to cite karyo in a publication.

    Parameters
    ----------
    print_out : bool, optional
        Also print the text (default True).
    short : bool, optional
        Return a two-line summary instead of the full text with BibTeX.

    Returns
    -------
    text : str
        The citation text.

    Notes
    -----
    The same function as ``mahotas.citation``. karyo reimplements mahotas's
    API and algorithms, so the reference is mahotas's paper (L. P. Coelho,
    "Mahotas: Open source software for scriptable computer vision", Journal
    of Open Research Software 1, 2013), with karyo named in the methods.

    Examples
    --------
    >>> import karyo
    >>> text = karyo.citation(print_out=False, short=True)
    >>> "10.5334/jors.ac" in text
    True
    """
    text = short_citation_text if short else citation_text
    if print_out:
        print(text, end="")
    return text
