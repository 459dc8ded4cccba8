"""The method and the rules for small numbers, in plain Danish, for the method sheet."""

from __future__ import annotations

from surveys.exports import labels
from surveys.indicators import MIN_ANSWERS, MIN_COMMENT_ANSWERS, MIN_INVITED, Report


def _channels_here(report: Report) -> str:
    if report.channels:
        return " Her er der svar fra begge kanaler, og tallene vises også for hver kanal."
    if report.channels_used:
        used = labels.CHANNELS[report.channels_used[0]]
        return f" Her kom alle svar via {used}, så der er ikke noget at dele op."
    return ""


def method_lines(report: Report) -> list[tuple[bool, str]]:
    """(is_heading, text) lines explaining how every figure was made and hidden."""
    s = report.selection
    covers = f"Runde {', '.join(str(r) for r in s.round_ids)}"
    lines: list[tuple[bool, str]] = [
        (True, "Sådan er tallene lavet"),
        (
            False,
            f"Rapporten dækker: {s.label} ({covers}). Spørgeskema: "
            f"{report.survey.title} ({report.survey.id}, version {report.survey.version}).",
        ),
    ]
    if s.left_out:
        lines.append(
            (
                False,
                "Runder i perioden med en anden version af spørgeskemaet er ikke med: "
                + ", ".join(str(r) for r in s.left_out)
                + ".",
            )
        )
    lines += [
        (
            False,
            "Borgernes og de pårørendes svar regnes altid hver for sig og lægges aldrig sammen.",
        ),
        (True, "Tallene"),
        (
            False,
            "Svar (n): antal gyldige svar. «Ved ikke» og «Spring over» tælles for sig "
            "og indgår ikke i n eller i nogen andel.",
        ),
        (
            False,
            "Andel positive: andelen, der har valgt en af de to bedste svarmuligheder "
            "(fx «Meget tilfreds» eller «Tilfreds», «Altid» eller «Ofte»). Topboks: andelen, "
            "der har valgt den allerbedste. Vi viser begge, fordi de to bedste tilsammen kan "
            "skjule mild kritik.",
        ),
        (
            False,
            "95 % interval: det område, hvor den sande andel med stor sikkerhed ligger "
            "(Wilson-intervallet). Jo færre svar, jo bredere interval.",
        ),
        (
            False,
            "Indeks 0-100: den bedste svarmulighed giver 100, den dårligste 0, og "
            "trinene imellem er lige store (på fem svarmuligheder: 0, 25, 50, 75, 100).",
        ),
        (
            False,
            "Temaer: hver person får et gennemsnit over temaets spørgsmål, hvis de har "
            "svaret på mindst halvdelen af dem; temaets tal er gennemsnittet over personerne. "
            "Spørgsmål uden bedre eller dårligere svar (fx «Hvem svarer?») indgår ikke.",
        ),
        (
            False,
            "Ensomhed er et negativt tal: HØJERE ER VÆRRE. Svær ensomhed er en sum på "
            "7 eller mere på de tre spørgsmål om ensomhed (T-ILS, 3-9 point); kun personer, "
            "der har svaret på alle tre, tæller med. Desuden andelen, der svarer «Ja, ofte» "
            "til, om de er alene, selvom de helst ville være sammen med andre.",
        ),
        (
            False,
            "Svarprocent: gennemførte besvarelser delt med alle inviterede, også dem "
            "der senere har trukket sig eller ikke kunne nås (AAPOR RR1). Delvise besvarelser "
            "vises for sig; deres svar tæller med på de spørgsmål, de nåede.",
        ),
        (True, "Telegram og nettet"),
        (
            False,
            "Man kan svare via Telegram eller på nettet. Måden, man svarer på, kan i sig selv "
            "påvirke svarene lidt (fx flere «Ved ikke» på nogle skærme), så tallene kan også "
            "deles op efter kanal. Hvert svar tæller i den kanal, det kom fra; har en person "
            "svaret på noget via Telegram og noget på nettet, tæller deres temaer og "
            "ensomhedssum i hver kanal kun med de svar, de gav dér. De samme regler for små "
            "tal gælder for hver kanal, og er kun den ene kanals tal skjult, skjules den "
            "andens også, så det skjulte ikke kan regnes ud fra tallet for alle kanaler.",
        ),
        (
            False,
            "En person inviteres én gang og kan svare via begge kanaler, så en kanal har "
            "ingen svarprocent for sig selv: svarprocenten gælder alle kanaler. For hver "
            "kanal vises i stedet, hvor mange der gjorde skemaet færdigt dér, og deres andel "
            "af alle gennemførte." + _channels_here(report),
        ),
        (
            False,
            "Med hjælp: svar givet af eller sammen med en pårørende eller medarbejder. "
            "De tælles med og vises for sig.",
        ),
        (
            False,
            f"{labels.MUNICIPALITY}: enhederne vægtes efter deres antal borgere (ikke "
            "efter antal svar), så en stor enhed vejer mere end en lille. Vægten er antallet af "
            "aktive borgere i enheden i dag.",
        ),
        (True, "Udvikling siden sidst"),
        (
            False,
            "Ændringen er forskellen i andel positive (for ensomhed: i andelen ensomme) "
            "i procentpoint mod den forrige runde med samme spørgeskema, der dækkede samme "
            "enheder (for en periode: den lige så lange periode før)."
            + (
                f" Her: {report.baseline.label}."
                if report.baseline
                else " Her er der ingen tidligere runde at sammenligne med."
            ),
        ),
        (
            False,
            "En ændring kaldes sikker, når 95 %-intervallet for forskellen (Newcombes "
            "metode) ikke indeholder 0, og begge tal er store nok til at blive vist. ↑ og ↓ "
            "viser sikre ændringer, → at ændringen kan skyldes tilfældigheder. – betyder, at "
            "der ikke er noget at sammenligne med, eller at et af tallene er skjult. "
            f"{labels.MUNICIPALITY} sammenlignes kun, når begge gange bygger på de samme "
            "enheder.",
        ),
        (True, "Små tal og anonymitet"),
        (
            False,
            f"Et tal vises ikke, hvis det bygger på færre end {MIN_ANSWERS} svar: der "
            "står «for få svar» i stedet.",
        ),
        (
            False,
            f"En enhed vises slet ikke, hvis færre end {MIN_INVITED} er inviteret i "
            "målgruppen: alle dens tal står som «for få svar».",
        ),
        (
            False,
            "Når kun én enhed er skjult, kunne man regne dens tal ud fra tallet for "
            f"{labels.MUNICIPALITY.lower()} og de andre enheder. Derfor skjules også den "
            "enhed med færrest svar (der står «skjult (beskytter små tal)»), eller, hvis der "
            f"ikke er nogen, tallet for {labels.MUNICIPALITY.lower()}.",
        ),
        (
            False,
            f"Kommentarer vises kun for enheder med mindst {MIN_COMMENT_ANSWERS} "
            "gennemførte besvarelser i målgruppen, uden navne og datoer, og kun for "
            "kvalitetskoordinatorer.",
        ),
        (False, "Medarbejdere ser aldrig, hvem der har svaret hvad."),
        (
            False,
            "Når opbevaringsperioden efter en rundes lukning er gået, slettes dens svar, "
            "kommentarer og udsendelser. Tallene kommer derefter fra de optællinger pr. "
            "enhed, der blev lavet, da runden lukkede, og er de samme som før; "
            "kommentarerne er væk.",
        ),
        (True, "Farver i overblikket"),
        (
            False,
            f"Grøn: {labels.percent(labels.GREEN_FROM)} positive eller mere. Gul: "
            f"{labels.percent(labels.YELLOW_FROM)} til under "
            f"{labels.percent(labels.GREEN_FROM)}. Rød: under "
            f"{labels.percent(labels.YELLOW_FROM)}. Grænserne er valgt af os, ikke en "
            "national norm.",
        ),
        (True, "Tal i Excel og CSV"),
        (
            False,
            "Tallene er gemt som tal, så de kan sorteres og bruges i pivottabeller; "
            "dansk Excel viser dem med decimalkomma. Andele er gemt som brøker (0,725 vises "
            "som 72,5 %). CSV-filen er «lang»: én række pr. tal med alle dimensioner, UTF-8, "
            "semikolon og decimalkomma.",
        ),
    ]
    return lines
