"""The words of `nasops access-diff` in English, French and Dutch (issue 16).

A change is one of seven kinds (from its access before and after); each kind has a sentence
about one person ("can now change {folder}") and a heading for the people of one folder
("People who can now change it"), so that no verb has to agree with a count. Every language
has every key (a test checks).
"""

from __future__ import annotations

from nasops.spec.rights import Access

RANK = {Access.NONE: 0, Access.TRAVERSE: 1, Access.READ: 2, Access.WRITE: 3}


def kind(before: Access, after: Access) -> str:
    """Given the access before and after, return the change's kind."""
    if after == Access.WRITE:
        return "change"
    if after == Access.READ:
        return "only_read" if before == Access.WRITE else "read"
    if after == Access.TRAVERSE:
        return "only_pass" if RANK[before] > RANK[after] else "pass"
    return "no_pass" if before == Access.TRAVERSE else "no_reach"


WORDS: dict[str, dict[str, str]] = {
    "en": {
        "change": "can now change {folder}",
        "only_read": "can now only read {folder} (no longer change it)",
        "read": "can now read {folder}",
        "only_pass": "can no longer open {folder}, only pass through it to reach folders "
                     "below",
        "pass": "can now pass through {folder} (seeing only the way to their folders)",
        "no_pass": "can no longer pass through {folder}",
        "no_reach": "can no longer reach {folder}",
        "subtree": "{folder} and every folder in it",
        "people_change": "People who can now change it",
        "people_only_read": "People who can now only read it",
        "people_read": "People who can now read it",
        "people_only_pass": "People who can now only pass through it",
        "people_pass": "People who can now pass through it",
        "people_no_pass": "People who can no longer pass through it",
        "people_no_reach": "People who can no longer reach it",
        "nobody": "nobody gains or loses access",
        "renamed": "renamed: {old} -> {new}",
        "left": "left the spec (the NAS keeps it and its rights until `nasops forget`): "
                "{path}",
        "share_left": "share left the spec: no longer offered over the network (its files "
                      "stay on the NAS): {share}",
    },
    "fr": {
        "change": "peut maintenant modifier {folder}",
        "only_read": "ne peut plus que lire {folder}",
        "read": "peut maintenant lire {folder}",
        "only_pass": "ne peut plus ouvrir {folder}, seulement le traverser pour atteindre "
                     "les dossiers en dessous",
        "pass": "peut maintenant traverser {folder} (en ne voyant que le chemin vers ses "
                "dossiers)",
        "no_pass": "ne peut plus traverser {folder}",
        "no_reach": "n\u2019a plus accès à {folder}",
        "subtree": "{folder} et tous les dossiers qu\u2019il contient",
        "people_change": "Peuvent maintenant le modifier",
        "people_only_read": "Ne peuvent plus que le lire",
        "people_read": "Peuvent maintenant le lire",
        "people_only_pass": "Peuvent maintenant seulement le traverser",
        "people_pass": "Peuvent maintenant le traverser",
        "people_no_pass": "Ne peuvent plus le traverser",
        "people_no_reach": "N\u2019y ont plus accès",
        "nobody": "personne ne gagne ni ne perd d\u2019accès",
        "renamed": "renommé\u00a0: {old} -> {new}",
        "left": "retiré de la spec (le NAS le garde avec ses droits jusqu\u2019à "
                "`nasops forget`)\u00a0: {path}",
        "share_left": "partage retiré de la spec\u00a0: plus accessible par le réseau (ses "
                      "fichiers restent sur le NAS)\u00a0: {share}",
    },
    "nl": {
        "change": "kan {folder} nu wijzigen",
        "only_read": "kan {folder} nu alleen lezen (niet meer wijzigen)",
        "read": "kan {folder} nu lezen",
        "only_pass": "kan {folder} niet meer openen, alleen erdoor gaan om de mappen eronder "
                     "te bereiken",
        "pass": "kan nu door {folder} gaan (ziet alleen de weg naar de eigen mappen)",
        "no_pass": "kan niet meer door {folder} gaan",
        "no_reach": "kan niet meer bij {folder}",
        "subtree": "{folder} en alle mappen erin",
        "people_change": "Kunnen deze map nu wijzigen",
        "people_only_read": "Kunnen deze map nu alleen lezen",
        "people_read": "Kunnen deze map nu lezen",
        "people_only_pass": "Kunnen nu alleen door deze map gaan",
        "people_pass": "Kunnen nu door deze map gaan",
        "people_no_pass": "Kunnen niet meer door deze map gaan",
        "people_no_reach": "Kunnen niet meer bij deze map",
        "nobody": "niemand krijgt of verliest toegang",
        "renamed": "hernoemd: {old} -> {new}",
        "left": "uit de spec gehaald (de NAS houdt de map en haar rechten tot "
                "`nasops forget`): {path}",
        "share_left": "gedeelde map uit de spec gehaald: niet meer bereikbaar via het "
                      "netwerk (de bestanden blijven op de NAS): {share}",
    },
}
