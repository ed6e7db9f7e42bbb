"""karyo.citation: the same function as mahotas.citation, with karyo's text."""

import mahotas

import karyo


def test_citation_prints_and_returns_like_mahotas(capsys):
    for short in (False, True):
        text = karyo.citation(short=short)
        assert capsys.readouterr().out == text
        mahotas_text = mahotas.citation(short=short)
        capsys.readouterr()
        # the reference is mahotas's paper (karyo reimplements it), and karyo
        # asks to be named too
        assert "10.5334/jors.ac" in text and "10.5334/jors.ac" in mahotas_text
        assert "karyo" in text
        assert len(text) < len(karyo.citation_text) or not short


def test_citation_without_printing(capsys):
    assert karyo.citation(print_out=False) == karyo.citation_text
    assert karyo.citation(False, True) == karyo.short_citation_text
    assert capsys.readouterr().out == ""
    assert "@article{coelho:mahotas" in karyo.citation_text


def test_top_level_names_like_mahotas():
    # the flat namespace, where citation lives: every public mahotas name
    # (but its test runner) exists, and the ones added with citation are
    # karyo's functions of the same meaning
    missing = [name for name in mahotas.__all__ if name != "test" and not hasattr(karyo, name)]
    assert missing == []
    assert karyo.moments is karyo.features.moments
    import numpy as np

    image = np.random.default_rng(0).random((7, 9))
    for p0, p1 in ((0, 0), (1, 2), (3, 1)):
        np.testing.assert_allclose(karyo.moments(image, p0, p1), mahotas.moments(image, p0, p1),
                                   rtol=1e-12)
