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
        "colon": ": ",
        "windows": "Windows: open File Explorer, type {unc} in the address bar and press "
                   "Enter. To keep it as a drive letter (for example Z:): right-click "
                   "\u201cThis PC\u201d, choose \u201cMap network drive\u201d and enter {unc}.",
        "macos": "Mac: in the Finder, choose Go > \u201cConnect to Server\u2026\u201d and "
                 "enter {url}.",
        "linux": "Linux: in the file manager, choose \u201cOther Locations\u201d (or "
                 "\u201cNetwork\u201d) and enter {url} in the address field at the bottom.",
        "ask": "To get access to another folder, ask {contact}.",
        "ask_nobody": "To get access to another folder, ask the person who manages the NAS.",
        "sync": "Your laptop keeps a copy of some shares (Syncthing)",
        "sync_install": "Install Syncthing from syncthing.net, open it, choose \u201cAdd "
                        "Remote Device\u201d and paste the NAS\u2019s ID in the \u201cDevice "
                        "ID\u201d field:",
        "sync_no_id": "Ask {contact} for the NAS\u2019s device ID.",
        "sync_no_id_nobody": "Ask the person who manages the NAS for the NAS\u2019s device ID.",
        "sync_auto": "When you add the NAS, on the \u201cSharing\u201d tab, tick \u201cAuto "
                     "Accept\u201d: the folders you may reach then arrive on your laptop by "
                     "themselves, and only those. Do not tick \u201cIntroducer\u201d: it "
                     "would connect your laptop to other people\u2019s laptops directly.",
        "sync_list": "These are the folders that will arrive on your laptop. For each one: in "
                     "Syncthing, click the folder, choose \u201cEdit\u201d, open the "
                     "\u201cAdvanced\u201d tab and set \u201cFolder Type\u201d as shown "
                     "below. Then click \u201cSave\u201d.",
        "sync_type_change": "\u201cSend &amp; Receive\u201d (you can change the files)",
        "sync_type_read": "\u201cReceive Only\u201d (you can only read the files)",
        "sync_read_only": "In a \u201cReceive Only\u201d folder, what you change is never "
                          "sent to the NAS: Syncthing shows it as \u201cLocal Additions\u201d "
                          "(that is expected) and offers to undo it (\u201cRevert Local "
                          "Changes\u201d).",
        "sync_conflict": "When a file was changed in two places at once, Syncthing keeps both "
                         "versions: the second has \u201csync-conflict\u201d in its name. "
                         "Open both, put what you want to keep in the original file, then "
                         "delete the one with \u201csync-conflict\u201d.",
        "sync_shares": "Shares copied to your laptop: {shares}.",
    },
    "fr": {
        "title": "Vos fichiers sur le NAS ({organization})",
        "hello": "Bonjour {name},",
        "login": "Vous vous connectez avec cet identifiant et le mot de passe qui vous a été "
                 "remis\u00a0:",
        "change": "Les dossiers que vous pouvez modifier (ouvrir, ajouter, changer et "
                  "supprimer des fichiers)",
        "read": "Les dossiers que vous pouvez seulement lire (ouvrir et copier des fichiers, "
                "sans les modifier)",
        "through": "Les dossiers par lesquels vous passez seulement",
        "through_explained": "Vous ouvrez ces dossiers seulement pour atteindre les vôtres, "
                             "qui se trouvent à l\u2019intérieur\u00a0: vous y voyez le "
                             "chemin, rien d\u2019autre.",
        "nothing": "Vous n\u2019avez encore aucun dossier sur le NAS.",
        "connect": "Comment atteindre vos dossiers",
        "colon": "\u00a0: ",
        "windows": "Windows\u00a0: ouvrez l\u2019Explorateur de fichiers, tapez {unc} dans la "
                   "barre d\u2019adresse et appuyez sur Entrée. Pour le garder comme lecteur "
                   "(une lettre, par exemple Z:)\u00a0: faites un clic droit sur "
                   "\u00ab\u00a0Ce PC\u00a0\u00bb, choisissez \u00ab\u00a0Connecter un "
                   "lecteur réseau\u00a0\u00bb et indiquez {unc}.",
        "macos": "Mac\u00a0: dans le Finder, choisissez Aller > \u00ab\u00a0Se connecter au "
                 "serveur\u2026\u00a0\u00bb et indiquez {url}.",
        "linux": "Linux\u00a0: dans le gestionnaire de fichiers, choisissez "
                 "\u00ab\u00a0Autres emplacements\u00a0\u00bb (ou "
                 "\u00ab\u00a0Réseau\u00a0\u00bb) et indiquez {url} dans le champ "
                 "d\u2019adresse en bas.",
        "ask": "Pour accéder à un autre dossier, adressez-vous à {contact}.",
        "ask_nobody": "Pour accéder à un autre dossier, adressez-vous à la personne qui gère "
                      "le NAS.",
        "sync": "Votre ordinateur portable garde une copie de certains partages (Syncthing)",
        "sync_install": "Installez Syncthing depuis syncthing.net, ouvrez-le, choisissez "
                        "\u00ab\u00a0Ajouter un appareil...\u00a0\u00bb et collez "
                        "l\u2019identifiant du NAS dans le champ \u00ab\u00a0ID de "
                        "l\u2019appareil\u00a0\u00bb\u00a0:",
        "sync_no_id": "Demandez à {contact} l\u2019identifiant d\u2019appareil du NAS.",
        "sync_no_id_nobody": "Demandez l\u2019identifiant d\u2019appareil du NAS à la "
                             "personne qui gère le NAS.",
        "sync_auto": "En ajoutant le NAS, dans l\u2019onglet "
                     "\u00ab\u00a0Partages\u00a0\u00bb, cochez \u00ab\u00a0Accepter "
                     "automatiquement\u00a0\u00bb\u00a0: les dossiers auxquels vous avez "
                     "accès arrivent alors d\u2019eux-mêmes sur votre portable, et seulement "
                     "eux. Syncthing peut afficher un avertissement\u00a0: pour le NAS de "
                     "votre organisation, c\u2019est normal. Ne cochez pas "
                     "\u00ab\u00a0Appareil introducteur\u00a0\u00bb\u00a0: votre portable se "
                     "connecterait directement aux portables d\u2019autres personnes.",
        "sync_list": "Voici les dossiers qui vont arriver sur votre portable (Syncthing les "
                     "appelle des \u00ab\u00a0partages\u00a0\u00bb). Pour chacun\u00a0: dans "
                     "Syncthing, cliquez sur le dossier, choisissez "
                     "\u00ab\u00a0Gérer...\u00a0\u00bb, ouvrez l\u2019onglet "
                     "\u00ab\u00a0Avancé\u00a0\u00bb et réglez \u00ab\u00a0Type de "
                     "partage\u00a0\u00bb comme indiqué ci-dessous. Cliquez ensuite sur "
                     "\u00ab\u00a0Enregistrer\u00a0\u00bb.",
        "sync_type_change": "\u00ab\u00a0Envoi &amp; réception\u00a0\u00bb (vous pouvez "
                            "modifier les fichiers)",
        "sync_type_read": "\u00ab\u00a0Réception seulement\u00a0\u00bb (vous pouvez seulement "
                          "lire les fichiers\u00a0; ne choisissez pas \u00ab\u00a0Envoi "
                          "(lecture seule)\u00a0\u00bb)",
        "sync_read_only": "Dans un dossier en \u00ab\u00a0Réception seulement\u00a0\u00bb, ce "
                          "que vous changez n\u2019est jamais envoyé au NAS\u00a0: Syncthing "
                          "le montre comme \u00ab\u00a0Ajouts locaux\u00a0\u00bb (c\u2019est "
                          "normal) et propose de l\u2019annuler (\u00ab\u00a0Annuler les "
                          "modifications locales\u00a0\u00bb).",
        "sync_conflict": "Quand un fichier a été modifié à deux endroits en même temps, "
                         "Syncthing garde les deux versions\u00a0: la seconde a "
                         "\u00ab\u00a0sync-conflict\u00a0\u00bb dans son nom. Ouvrez les "
                         "deux, reportez ce qu\u2019il faut garder dans le fichier "
                         "d\u2019origine, puis supprimez celui qui contient "
                         "\u00ab\u00a0sync-conflict\u00a0\u00bb.",
        "sync_shares": "Les partages copiés sur votre portable\u00a0: {shares}.",
    },
    "nl": {
        "title": "Uw bestanden op de NAS van {organization}",
        "hello": "Beste {name},",
        "login": "U meldt zich aan met deze gebruikersnaam en het wachtwoord dat u kreeg:",
        "change": "Mappen die u kunt wijzigen (bestanden openen, toevoegen, bewerken en "
                  "verwijderen)",
        "read": "Mappen die u alleen kunt lezen (bestanden openen en kopiëren, niet wijzigen)",
        "through": "Mappen waar u alleen doorheen gaat",
        "through_explained": "U kunt deze mappen alleen openen om uw mappen erin te bereiken: "
                             "u ziet de weg naar uw mappen, verder niets.",
        "nothing": "U hebt nog geen map op de NAS.",
        "connect": "Zo bereikt u uw mappen",
        "colon": ": ",
        "windows": "Windows: open Verkenner, typ {unc} in de adresbalk en druk op Enter. Wilt "
                   "u er een vaste stationsletter (bijvoorbeeld Z:) van maken? Klik dan met "
                   "de rechtermuisknop op \u201cDeze pc\u201d, kies \u201cNetwerkverbinding "
                   "maken\u201d en vul {unc} in.",
        "macos": "Mac: kies in de Finder Ga > \u201cVerbind met server\u2026\u201d en vul "
                 "{url} in.",
        "linux": "Linux: kies in het bestandsbeheer \u201cAndere locaties\u201d (of "
                 "\u201cNetwerk\u201d) en vul {url} in het adresveld onderaan in.",
        "ask": "Voor toegang tot een andere map vraagt u het aan {contact}.",
        "ask_nobody": "Voor toegang tot een andere map vraagt u het aan de persoon die de NAS "
                      "beheert.",
        "sync": "Uw laptop bewaart een kopie van sommige gedeelde mappen (Syncthing)",
        "sync_install": "Installeer Syncthing van syncthing.net, open het, kies \u201cExtern "
                        "apparaat toevoegen\u201d en vul bij \u201cApparaat-ID\u201d de ID "
                        "van de NAS in:",
        "sync_no_id": "Vraag de apparaat-ID van de NAS aan {contact}.",
        "sync_no_id_nobody": "Vraag de apparaat-ID van de NAS aan de persoon die de NAS "
                             "beheert.",
        "sync_auto": "Vink bij het toevoegen van de NAS, op het tabblad \u201cDelen\u201d, "
                     "\u201cAutomatisch aanvaarden\u201d aan: de mappen waartoe u toegang "
                     "hebt, komen dan vanzelf op uw laptop, en alleen die. Vink "
                     "\u201cIntroductie-apparaat\u201d niet aan: uw laptop zou dan "
                     "rechtstreeks verbinden met de laptops van anderen.",
        "sync_list": "Dit zijn de mappen die op uw laptop komen. Voor elke map: klik in "
                     "Syncthing op de map, kies \u201cBewerken\u201d, open het tabblad "
                     "\u201cGeavanceerd\u201d en stel \u201cSoort map\u201d in zoals "
                     "hieronder staat. Klik daarna op \u201cOpslaan\u201d.",
        "sync_type_change": "\u201cVerzenden en ontvangen\u201d (u kunt de bestanden wijzigen)",
        "sync_type_read": "\u201cAlleen ontvangen\u201d (u kunt de bestanden alleen lezen)",
        "sync_read_only": "In een map met \u201cAlleen ontvangen\u201d wordt wat u wijzigt "
                          "nooit naar de NAS gestuurd: Syncthing toont het als \u201cLokale "
                          "toevoegingen\u201d (dat is normaal) en biedt aan het ongedaan te "
                          "maken (\u201cLokale wijzigingen terugdraaien\u201d).",
        "sync_conflict": "Is een bestand op twee plaatsen tegelijk gewijzigd, dan bewaart "
                         "Syncthing beide versies: de tweede heeft \u201csync-conflict\u201d "
                         "in de naam. Open ze allebei, zet wat u wilt houden in het "
                         "oorspronkelijke bestand en verwijder daarna het bestand met "
                         "\u201csync-conflict\u201d.",
        "sync_shares": "Gedeelde mappen die naar uw laptop worden gekopieerd: {shares}.",
    },
}
