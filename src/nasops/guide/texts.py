"""The handouts' words in English, French and Dutch (issue 16): plain language, no jargon.

"can change", never "rwx"; one idea per sentence. Placeholders in braces are filled with
values from the spec, escaped by the template. Every language has every key (a test checks).
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your files on the NAS of {organization}",
        "hello": "Hello {name},",
        "login": "You sign in with this login and the password you were given:",
        "change": "Folders you can change (open, add, edit and delete files)",
        "read": "Folders you can only read (open and copy files, not change them)",
        "through": "Folders you only pass through",
        "through_explained": "You can open these folders only to reach your folders inside "
                             "them: you see the way to your folders, nothing else.",
        "nothing": "You have no folder on the NAS yet.",
        "connect": "How to reach your folders",
        "windows": "Windows: open File Explorer, type {unc} in the address bar and press Enter. "
                   "To keep it as a drive letter: right-click \u201cThis PC\u201d, choose "
                   "\u201cMap network drive\u201d and enter {unc}.",
        "macos": "Mac: in the Finder, choose Go > Connect to Server and enter {url}.",
        "linux": "Linux: in the file manager, choose \u201cOther Locations\u201d and enter "
                 "{url}.",
        "ask": "To get access to another folder, ask {contact}.",
        "ask_nobody": "To get access to another folder, ask the person who manages the NAS.",
        "sync": "Your laptop keeps a copy of some shares (Syncthing)",
        "sync_install": "Install Syncthing from syncthing.net, open it, choose \u201cAdd "
                        "Remote Device\u201d and give the NAS's device ID:",
        "sync_no_id": "Ask {contact} for the NAS's device ID.",
        "sync_no_id_nobody": "Ask the person who manages the NAS for the NAS's device ID.",
        "sync_folders": "A share may come as several folders (for example \u201cAfrique "
                        "(read-only)\u201d and \u201cAfrique/Partenaires\u201d), side by "
                        "side.",
        "sync_auto": "When you add the NAS, tick \u201cAuto Accept\u201d: the folders you "
                     "may reach then arrive on your laptop by themselves, and only those. Do "
                     "not tick \u201cIntroducer\u201d: it would connect your laptop to other "
                     "people's laptops directly.",
        "sync_read_only": "For a folder you can only read, set its type to \u201cReceive "
                          "Only\u201d on your laptop (Edit > Advanced): what you change there "
                          "is never sent to the NAS, and Syncthing offers to undo it "
                          "(\u201cRevert Local Changes\u201d).",
        "sync_conflict": "When a file was changed in two places at once, Syncthing keeps both: "
                         "the other one is called \u201c\u2026sync-conflict\u2026\u201d. Open "
                         "both, keep the right content, delete the copy.",
        "sync_shares": "Shares that follow your laptop: {shares}.",
    },
    "fr": {
        "title": "Vos fichiers sur le NAS de {organization}",
        "hello": "Bonjour {name},",
        "login": "Vous vous connectez avec cet identifiant et le mot de passe qui vous a "
                 "été remis :",
        "change": "Les dossiers que vous pouvez modifier (ouvrir, ajouter, modifier et "
                  "supprimer des fichiers)",
        "read": "Les dossiers que vous pouvez seulement lire (ouvrir et copier des fichiers, "
                "sans les modifier)",
        "through": "Les dossiers que vous pouvez seulement traverser",
        "through_explained": "Vous pouvez ouvrir ces dossiers uniquement pour atteindre vos "
                             "dossiers qui s\u2019y trouvent : vous voyez le chemin vers vos "
                             "dossiers, rien d\u2019autre.",
        "nothing": "Vous n\u2019avez encore aucun dossier sur le NAS.",
        "connect": "Comment atteindre vos dossiers",
        "windows": "Windows : ouvrez l\u2019Explorateur de fichiers, tapez {unc} dans la barre "
                   "d\u2019adresse et appuyez sur Entrée. Pour en faire un lecteur : faites "
                   "un clic droit sur \u00ab Ce PC \u00bb, choisissez \u00ab Connecter un "
                   "lecteur réseau \u00bb et indiquez {unc}.",
        "macos": "Mac : dans le Finder, choisissez Aller > Se connecter au serveur et "
                 "indiquez {url}.",
        "linux": "Linux : dans le gestionnaire de fichiers, choisissez \u00ab Autres "
                 "emplacements \u00bb et indiquez {url}.",
        "ask": "Pour accéder à un autre dossier, demandez à {contact}.",
        "ask_nobody": "Pour accéder à un autre dossier, demandez à la personne qui gère le "
                      "NAS.",
        "sync": "Votre ordinateur portable garde une copie de certains partages (Syncthing)",
        "sync_install": "Installez Syncthing depuis syncthing.net, ouvrez-le, choisissez "
                        "\u00ab Ajouter un appareil \u00bb et indiquez l\u2019identifiant "
                        "d\u2019appareil du NAS :",
        "sync_no_id": "Demandez à {contact} l\u2019identifiant d\u2019appareil du NAS.",
        "sync_no_id_nobody": "Demandez l\u2019identifiant d\u2019appareil du NAS à la "
                             "personne qui gère le NAS.",
        "sync_folders": "Un partage peut arriver en plusieurs dossiers (par exemple "
                        "\u00ab Afrique (read-only) \u00bb et \u00ab Afrique/Partenaires "
                        "\u00bb), côte à côte.",
        "sync_auto": "En ajoutant le NAS, cochez \u00ab Accepter automatiquement \u00bb : "
                     "les dossiers auxquels vous avez accès arrivent alors seuls sur votre "
                     "portable, et seulement eux. Ne cochez pas \u00ab Appareil "
                     "introducteur \u00bb : votre portable se connecterait directement à "
                     "ceux d\u2019autres personnes.",
        "sync_read_only": "Pour un dossier que vous pouvez seulement lire, choisissez le type "
                          "\u00ab Réception seulement \u00bb sur votre portable (Gérer\u2026 > "
                          "Avancé) : ce que vous y changez n\u2019est jamais envoyé au NAS, "
                          "et Syncthing propose de l\u2019annuler.",
        "sync_conflict": "Quand un fichier a été modifié à deux endroits en même temps, "
                         "Syncthing garde les deux : l\u2019autre s\u2019appelle "
                         "\u00ab \u2026sync-conflict\u2026 \u00bb. Ouvrez les deux, gardez le "
                         "bon contenu et supprimez la copie.",
        "sync_shares": "Les partages qui suivent votre portable : {shares}.",
    },
    "nl": {
        "title": "Uw bestanden op de NAS van {organization}",
        "hello": "Dag {name},",
        "login": "U meldt zich aan met deze gebruikersnaam en het wachtwoord dat u kreeg:",
        "change": "Mappen die u kunt wijzigen (bestanden openen, toevoegen, wijzigen en "
                  "verwijderen)",
        "read": "Mappen die u alleen kunt lezen (bestanden openen en kopiëren, niet wijzigen)",
        "through": "Mappen waar u alleen doorheen gaat",
        "through_explained": "U kunt deze mappen alleen openen om uw mappen erin te bereiken: "
                             "u ziet de weg naar uw mappen, verder niets.",
        "nothing": "U hebt nog geen map op de NAS.",
        "connect": "Zo bereikt u uw mappen",
        "windows": "Windows: open Verkenner, typ {unc} in de adresbalk en druk op Enter. Als "
                   "stationsletter: klik met de rechtermuisknop op \u201cDeze pc\u201d, kies "
                   "\u201cNetwerkverbinding maken\u201d en vul {unc} in.",
        "macos": "Mac: kies in de Finder Ga > Verbind met server en vul {url} in.",
        "linux": "Linux: kies in het bestandsbeheer \u201cAndere locaties\u201d en vul {url} "
                 "in.",
        "ask": "Voor toegang tot een andere map vraagt u het aan {contact}.",
        "ask_nobody": "Voor toegang tot een andere map vraagt u het aan wie de NAS beheert.",
        "sync": "Uw laptop bewaart een kopie van sommige gedeelde mappen (Syncthing)",
        "sync_install": "Installeer Syncthing van syncthing.net, open het, kies \u201cExtern "
                        "apparaat toevoegen\u201d en geef de apparaat-ID van de NAS in:",
        "sync_no_id": "Vraag de apparaat-ID van de NAS aan {contact}.",
        "sync_no_id_nobody": "Vraag de apparaat-ID van de NAS aan wie de NAS beheert.",
        "sync_folders": "Een gedeelde map kan als meerdere mappen aankomen (bijvoorbeeld "
                        "\u201cAfrique (read-only)\u201d en \u201cAfrique/Partenaires\u201d), "
                        "naast elkaar.",
        "sync_auto": "Vink bij het toevoegen van de NAS \u201cAutomatisch aanvaarden\u201d "
                     "aan: de mappen waar u bij mag, komen dan vanzelf op uw laptop, en alleen "
                     "die. Vink \u201cIntroductie-apparaat\u201d niet aan: uw laptop zou dan "
                     "rechtstreeks verbinden met die van anderen.",
        "sync_read_only": "Kies voor een map die u alleen kunt lezen het type \u201cAlleen "
                          "ontvangen\u201d op uw laptop (Bewerken > Geavanceerd): wat u daar "
                          "wijzigt, wordt nooit naar de NAS gestuurd en Syncthing biedt aan "
                          "het ongedaan te maken.",
        "sync_conflict": "Werd een bestand op twee plaatsen tegelijk gewijzigd, dan bewaart "
                         "Syncthing beide: het andere heet \u201c\u2026sync-conflict\u2026"
                         "\u201d. Open beide, behoud de juiste inhoud en verwijder de kopie.",
        "sync_shares": "Gedeelde mappen die uw laptop volgen: {shares}.",
    },
}
