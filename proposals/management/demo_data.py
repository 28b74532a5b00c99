"""The group as its presentation of 17 September 2014 describes it, with demo people and proposals.

Source: the group's presentation of 17 September 2014 (docs/README.md, "Demo data"). It names
the members; the dates on which they joined are plausible rather than sourced, except France's
support, announced in Chamonix on 9 November 2013, and the spokes-States (France, Morocco,
Ecuador) presenting the group at the UN on 4 February 2014. Occasions are real ones of the
period, moved into the near future.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from textwrap import dedent
from typing import Any

from proposals.models import Body, Occasion, Organization, ProposalState, Role

STATE = Organization.Kind.STATE
LOCAL = Organization.Kind.LOCAL_GOVERNMENT
INSTITUTION = Organization.Kind.INTERNATIONAL_INSTITUTION
CIVIL = Organization.Kind.CIVIL_SOCIETY


@dataclass(frozen=True)
class DemoOrganization:
    name: str
    kind: str
    short_name: str = ""
    status: str = Organization.Status.MEMBER
    country: str = ""
    joined_on: dt.date | None = None
    parent: str = ""  # the name of the organisation it is part of
    is_secretariat: bool = False


TASK_FORCE = "UN Inter-Agency Task Force on Social and Solidarity Economy"
SECRETARIAT = "Mont-Blanc Meetings – International Forum of Social and Solidarity Economy Leaders"

ORGANIZATIONS: list[DemoOrganization] = [
    DemoOrganization("France", STATE, country="FR", joined_on=dt.date(2013, 11, 9)),
    DemoOrganization("Morocco", STATE, country="MA", joined_on=dt.date(2014, 2, 4)),
    DemoOrganization("Luxembourg", STATE, country="LU", joined_on=dt.date(2014, 6, 12)),
    DemoOrganization("Ecuador", STATE, country="EC", joined_on=dt.date(2014, 2, 4)),
    DemoOrganization("Colombia", STATE, country="CO", joined_on=dt.date(2014, 7, 24)),
    DemoOrganization(
        "Québec",
        LOCAL,
        status=Organization.Status.OBSERVER,
        country="CA",
        joined_on=dt.date(2014, 9, 2),
    ),
    DemoOrganization(TASK_FORCE, INSTITUTION, short_name="UNTFSSE", joined_on=dt.date(2014, 2, 4)),
    DemoOrganization(
        SECRETARIAT,
        CIVIL,
        short_name="Mont-Blanc Meetings",
        country="FR",
        joined_on=dt.date(2013, 11, 9),
        is_secretariat=True,
    ),
    DemoOrganization(
        "International Co-operative Alliance",
        CIVIL,
        short_name="ICA",
        country="BE",
        joined_on=dt.date(2014, 3, 20),
    ),
    DemoOrganization(
        "International Association of Mutual Benefit Societies",
        CIVIL,
        short_name="AIM",
        country="BE",
        joined_on=dt.date(2014, 3, 20),
    ),
    # The seed lists AIMF and FMDV among the allied organisations; both are networks of
    # cities, so they are "cities and territories" rather than civil society.
    DemoOrganization(
        "International Association of Francophone Mayors",
        LOCAL,
        short_name="AIMF",
        country="FR",
        joined_on=dt.date(2014, 5, 15),
    ),
    DemoOrganization(
        "Global Fund for Cities Development",
        LOCAL,
        short_name="FMDV",
        country="FR",
        joined_on=dt.date(2014, 6, 26),
    ),
]

# The agencies of the UN task force, in the seed's order.
AGENCIES: list[tuple[str, str]] = [
    ("United Nations Research Institute for Social Development", "UNRISD"),
    ("United Nations Non-Governmental Liaison Service", "UN-NGLS"),
    ("International Labour Organization", "ILO"),
    ("United Nations Development Programme", "UNDP"),
    ("United Nations Department of Economic and Social Affairs", "UN DESA"),
    ("Organisation for Economic Co-operation and Development", "OECD"),
    ("United Nations Conference on Trade and Development", "UNCTAD"),
    ("Economic Commission for Latin America and the Caribbean", "ECLAC"),
    ("Food and Agriculture Organization of the United Nations", "FAO"),
    ("World Health Organization", "WHO"),
    ("United Nations Environment Programme", "UNEP"),
    ("United Nations Educational, Scientific and Cultural Organization", "UNESCO"),
    ("United Nations Industrial Development Organization", "UNIDO"),
    ("United Nations Economic Commission for Europe", "UNECE"),
    ("Economic and Social Commission for Western Asia", "ESCWA"),
    ("United Nations Human Settlements Programme", "UN-Habitat"),
    ("United Nations Entity for Gender Equality and the Empowerment of Women", "UN Women"),
    ("World Food Programme", "WFP"),
    ("Special Programme for Research and Training in Tropical Diseases", "TDR"),
    ("Joint United Nations Programme on HIV/AIDS", "UNAIDS"),
]

ORGANIZATIONS += [
    DemoOrganization(name, INSTITUTION, short_name=short, parent=TASK_FORCE)
    for name, short in AGENCIES
]


@dataclass(frozen=True)
class DemoPresidency:
    """A presidency term placed relative to the day the demo is first loaded."""

    state: str
    starts_in_days: int
    ends_in_days: int


PRESIDENCIES = [
    DemoPresidency("Ecuador", starts_in_days=-485, ends_in_days=-121),
    DemoPresidency("France", starts_in_days=-120, ends_in_days=245),
]


@dataclass(frozen=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    language: str
    timezone: str
    roles: tuple[tuple[str, str], ...] = ()  # (organisation name, role)
    is_superuser: bool = False
    is_staff: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@example.org"


PEOPLE = [
    DemoPerson(
        "claire",
        "Claire",
        "Dubois",
        "fr",
        "Europe/Paris",
        (("France", Role.DRAFTER), ("France", Role.REPRESENTATIVE)),
    ),
    DemoPerson(
        "youssef",
        "Youssef",
        "Benali",
        "fr",
        "Africa/Casablanca",
        (("Morocco", Role.DRAFTER), ("Morocco", Role.REPRESENTATIVE)),
    ),
    DemoPerson(
        "lena", "Lena", "Weber", "en", "Europe/Luxembourg", (("Luxembourg", Role.REPRESENTATIVE),)
    ),
    DemoPerson(
        "andres",
        "Andrés",
        "Cevallos",
        "es",
        "America/Guayaquil",
        (("Ecuador", Role.REPRESENTATIVE),),
    ),
    DemoPerson(
        "camila", "Camila", "Restrepo", "es", "America/Bogota", (("Colombia", Role.REPRESENTATIVE),)
    ),
    DemoPerson(
        "gabriel", "Gabriel", "Tremblay", "fr", "America/Toronto", (("Québec", Role.DRAFTER),)
    ),
    DemoPerson("rita", "Rita", "Morel", "fr", "Europe/Paris", ((SECRETARIAT, Role.REVIEWER),)),
    DemoPerson(
        "ines",
        "Inès",
        "Janssens",
        "en",
        "Europe/Brussels",
        (("International Association of Mutual Benefit Societies", Role.REVIEWER),),
    ),
    DemoPerson(
        "sam",
        "Sam",
        "Girard",
        "en",
        "Europe/Paris",
        ((SECRETARIAT, Role.SECRETARIAT),),
        is_staff=True,
    ),
    DemoPerson("admin", "Site", "Administrator", "en", "UTC", is_superuser=True, is_staff=True),
]

SECRETARIAT_GROUP = "Secretariat"

# The secretariat and the administrator must use two-factor authentication: in the demo, their
# authenticator app holds this secret (base32), written in the README and printed by `make run`.
DEMO_TOTP_SECRET = "POLICYTRACKERDEMOTOTPSECRET23456"  # noqa: S105 (public demo secret)
TWO_FACTOR_PEOPLE = ("sam", "admin")

NATIONAL = Body.Level.NATIONAL
INTERNATIONAL = Body.Level.INTERNATIONAL

FRENCH_ASSEMBLY = "Assemblée nationale"
ECUADOR_ASSEMBLY = "Asamblea Nacional del Ecuador"

BODIES: list[tuple[str, str, str]] = [
    ("UN General Assembly", INTERNATIONAL, ""),
    ("UN Economic and Social Council (ECOSOC)", INTERNATIONAL, ""),
    ("International Labour Conference", INTERNATIONAL, ""),
    ("OECD", INTERNATIONAL, ""),
    ("Habitat III Conference", INTERNATIONAL, ""),
    # National bodies by their own names, in their country's language.
    (FRENCH_ASSEMBLY, NATIONAL, "FR"),
    ("Ministère chargé de l'économie sociale et solidaire", NATIONAL, "FR"),
    (ECUADOR_ASSEMBLY, NATIONAL, "EC"),
]


@dataclass(frozen=True)
class DemoOccasion:
    """An occasion whose deadline falls `deadline_in_days` local days after the first load,
    at 23:59 in its own time zone; its dates are counted from the deadline's day."""

    key: str
    name: str
    kind: str
    location: str
    timezone: str
    deadline_in_days: int
    starts_after_deadline: int
    ends_after_deadline: int
    required_approvals: int = 1
    endorsement_quorum: int = 2
    accepts_late_submissions: bool = False
    first_deadline_in_days: int | None = None  # when set, the deadline was moved once
    move_reason: str = ""


OCCASIONS = [
    DemoOccasion(
        "ecuador_consultation",
        # National consultations by their own names, in the country's language.
        "Consulta sobre la Ley Orgánica de Economía Popular y Solidaria del Ecuador",
        Occasion.Kind.LAW_CONSULTATION,
        "Quito, Ecuador",
        "America/Guayaquil",
        deadline_in_days=1,
        starts_after_deadline=-40,
        ends_after_deadline=0,
    ),
    DemoOccasion(
        "unga",
        "UN General Assembly – September session",
        Occasion.Kind.SUMMIT,
        "New York, United States",
        "America/New_York",
        deadline_in_days=2,
        starts_after_deadline=12,
        ends_after_deadline=24,
    ),
    DemoOccasion(
        "french_consultation",
        "Consultation sur le projet de loi relatif à l'économie sociale et solidaire",
        Occasion.Kind.LAW_CONSULTATION,
        "Paris, France",
        "Europe/Paris",
        deadline_in_days=7,
        starts_after_deadline=-35,
        ends_after_deadline=0,
        first_deadline_in_days=5,
        move_reason="Le ministère a prolongé la consultation publique de deux jours.",
    ),
    DemoOccasion(
        "working_session",
        "Annual working session of the Leading Group on SSE",
        Occasion.Kind.WORKING_SESSION,
        "Chamonix-Mont-Blanc, France",
        "Europe/Paris",
        deadline_in_days=14,
        starts_after_deadline=21,
        ends_after_deadline=23,
        required_approvals=2,
        accepts_late_submissions=True,
    ),
    DemoOccasion(
        "habitat3",
        "Habitat III – UN Conference on Housing and Sustainable Urban Development",
        Occasion.Kind.SUMMIT,
        "Quito, Ecuador",
        "America/Guayaquil",
        deadline_in_days=30,
        starts_after_deadline=20,
        ends_after_deadline=23,
    ),
]


@dataclass(frozen=True)
class Step:
    """One action on a demo proposal, run through the services as `username`.

    action: a transition name, or "edit", "endorse", "withdraw_endorsement".
    """

    action: str
    username: str
    comment: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)


def edit(username: str, **fields: str) -> Step:
    return Step("edit", username, arguments=fields)


def endorse(username: str) -> Step:
    return Step("endorse", username)


@dataclass(frozen=True)
class DemoProposal:
    title: str
    summary: str
    text: str
    lead: str
    author: str
    body: str
    occasion: str
    themes: tuple[int, ...]
    language: str
    state: str  # where the steps leave it
    co_authors: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()


def md(text: str) -> str:
    return dedent(text).strip() + "\n"


PTCE_TEXT_1 = md("""
    ## Constat

    Plus de 150 pôles territoriaux de coopération économique (PTCE) réunissent déjà des
    entreprises de l'économie sociale et solidaire, des collectivités locales, des PME et des
    centres de recherche autour de projets communs. Ils n'ont ni définition légale ni
    financement stable.

    ## Proposition

    Inscrire dans le projet de loi relatif à l'économie sociale et solidaire :

    1. une définition des PTCE ;
    2. un appel à projets national pluriannuel pour les soutenir.
""")

PTCE_TEXT_2 = PTCE_TEXT_1 + md("""
    3. une évaluation publique des pôles soutenus au bout de trois ans.

    ## Effets attendus

    - des emplois non délocalisables dans les bassins de vie en difficulté ;
    - une mutualisation des fonctions support entre petites structures ;
    - des coopérations durables entre collectivités et entreprises.
""")

PTCE_TEXT_3 = PTCE_TEXT_2 + md("""
    ## Coopération internationale

    Permettre aux PTCE de nouer des partenariats de coopération décentralisée, par exemple avec
    les coopératives agricoles du Maroc, et d'en rendre compte au groupe pilote.
""")

POST_2015_TEXT_1 = md("""
    ## Why

    The social and solidarity economy (SSE) creates decent jobs, reaches people that markets
    leave out and keeps wealth where it is produced. The post-2015 development agenda does not
    name it yet.

    ## What we propose

    The General Assembly should recognise the SSE as a means of implementation of the
    Sustainable Development Goals and invite Member States to report on it.
""")

POST_2015_TEXT_2 = POST_2015_TEXT_1 + md("""
    ## Evidence

    - UNRISD's research programme on the SSE documents its contribution to poverty reduction
      in more than 30 countries.
    - The ILO estimates that co-operatives alone employ at least 250 million people.

    ## Suggested wording for a target

    > By 2030, create an enabling environment for social and solidarity economy enterprises,
    > including access to finance and public procurement.
""")

PROPOSALS: list[DemoProposal] = [
    DemoProposal(
        title="Reconnaître les pôles territoriaux de coopération économique dans la loi",
        summary="Donner une existence légale et un financement pluriannuel aux pôles "
        "territoriaux de coopération économique (PTCE).",
        text=PTCE_TEXT_1,
        lead="France",
        author="claire",
        co_authors=("youssef",),
        body=FRENCH_ASSEMBLY,
        occasion="french_consultation",
        themes=(8, 11),
        language="fr",
        state=ProposalState.DRAFT,
        steps=(
            edit("claire", text=PTCE_TEXT_2),
            edit(
                "youssef",
                text=PTCE_TEXT_3,
                summary="Donner une existence légale et un financement pluriannuel aux PTCE, "
                "et les ouvrir à la coopération décentralisée.",
            ),
        ),
    ),
    DemoProposal(
        title="Les villes, partenaires de l'économie sociale et solidaire : l'expérience "
        "québécoise",
        summary="Ce que la Ville de Montréal et les municipalités du Québec ont appris en "
        "achetant auprès des entreprises d'économie sociale.",
        text=md("""
            ## Contexte

            Depuis 2013, la loi québécoise sur l'économie sociale engage le gouvernement et les
            municipalités à tenir compte des entreprises d'économie sociale dans leurs politiques.

            ## Proposition

            - Réserver une part des marchés publics municipaux aux entreprises d'économie sociale.
            - Créer des fonds locaux de développement cogérés avec les réseaux de l'ESS.
        """),
        lead="Québec",
        author="gabriel",
        body="Habitat III Conference",
        occasion="habitat3",
        themes=(11, 12),
        language="fr",
        state=ProposalState.DRAFT,
    ),
    DemoProposal(
        title="Recognise the social and solidarity economy in the post-2015 development agenda",
        summary="Ask the General Assembly to name the SSE as a means of implementing the "
        "Sustainable Development Goals.",
        text=POST_2015_TEXT_1,
        lead="Morocco",
        author="youssef",
        body="UN General Assembly",
        occasion="unga",
        themes=(1, 8, 17),
        language="en",
        state=ProposalState.IN_REVIEW,
        steps=(
            Step("submit_for_review", "youssef"),
            Step(
                "request_changes",
                "rita",
                comment="Please ground the proposal in the evidence gathered by UNRISD and the "
                "ILO, and suggest wording for a target.",
            ),
            edit(
                "youssef",
                text=POST_2015_TEXT_2,
                summary="Ask the General Assembly to name the SSE as a means of implementing "
                "the Sustainable Development Goals, with wording for a target.",
            ),
            Step("submit_for_review", "youssef"),
        ),
    ),
    DemoProposal(
        title="Un espace permanent de dialogue sur l'économie sociale et solidaire à l'ECOSOC",
        summary="Proposer au Conseil économique et social une session annuelle consacrée à "
        "l'ESS, ouverte aux réseaux de la société civile.",
        text=md("""
            ## Proposition

            Le Conseil économique et social des Nations Unies tiendrait chaque année, lors de son
            forum de partenariat, une session consacrée à l'économie sociale et solidaire.

            ## Pourquoi l'ECOSOC

            - Plusieurs membres du groupe pilote y ont le statut consultatif spécial.
            - La task-force inter-agences pourrait y présenter ses travaux.
        """),
        lead="France",
        author="claire",
        body="UN Economic and Social Council (ECOSOC)",
        occasion="working_session",
        themes=(16, 17),
        language="fr",
        state=ProposalState.IN_REVIEW,
        steps=(Step("submit_for_review", "claire"), Step("approve", "rita")),
    ),
    DemoProposal(
        title="An international statistical framework for the social and solidarity economy",
        summary="Invite the OECD to develop, with national statistics offices, satellite "
        "accounts for co-operatives, mutuals, associations and foundations.",
        text=md("""
            ## Problem

            Few countries measure the social and solidarity economy, and those that do use
            different definitions. Its weight in employment and output cannot be compared.

            ## Proposal

            1. The OECD develops a handbook of satellite accounts for SSE organisations.
            2. Members of the Leading Group pilot it in their national statistics offices.
            3. Results are presented at the next annual working session.
        """),
        lead="France",
        author="claire",
        body="OECD",
        occasion="working_session",
        themes=(8, 17),
        language="en",
        state=ProposalState.ENDORSEMENT,
        steps=(
            Step("submit_for_review", "claire"),
            Step("approve", "rita"),
            Step("approve", "ines"),
            endorse("claire"),
            endorse("lena"),
            Step("withdraw_endorsement", "lena"),
        ),
    ),
    DemoProposal(
        title="Le travail décent dans les entreprises de l'économie sociale et solidaire",
        summary="Demander à la Conférence internationale du Travail une recommandation sur "
        "le travail décent dans les coopératives et les mutuelles.",
        text=md("""
            ## Constat

            La recommandation n° 193 de l'OIT sur la promotion des coopératives date de 2002.
            Elle ne couvre ni les mutuelles, ni les associations, ni l'économie informelle qui
            s'organise en coopératives.

            ## Proposition

            Inscrire à l'ordre du jour de la Conférence internationale du Travail une discussion
            sur le travail décent dans l'économie sociale et solidaire, en vue d'une
            recommandation.
        """),
        lead="Morocco",
        author="youssef",
        body="International Labour Conference",
        occasion="working_session",
        themes=(5, 8),
        language="fr",
        state=ProposalState.ENDORSEMENT,
        steps=(
            Step("submit_for_review", "youssef"),
            Step("approve", "rita"),
            Step("approve", "ines"),
            endorse("youssef"),
            endorse("andres"),
            endorse("camila"),
        ),
    ),
    DemoProposal(
        title="Cooperative and community-led housing in the New Urban Agenda",
        summary="Ask Habitat III to recognise housing co-operatives and community land trusts "
        "as ways to secure affordable housing.",
        text=md("""
            ## Proposal

            The New Urban Agenda should:

            - recognise housing co-operatives and community land trusts;
            - encourage cities to make public land available to them on long leases;
            - support mutual-aid housing, as practised in Uruguay since the 1960s.
        """),
        lead="Québec",
        author="gabriel",
        body="Habitat III Conference",
        occasion="habitat3",
        themes=(1, 11),
        language="en",
        state=ProposalState.SUBMITTED,
        steps=(
            Step("submit_for_review", "gabriel"),
            Step("approve", "ines"),
            endorse("claire"),
            endorse("andres"),
            Step("submit", "sam", arguments={"reference": "HIII/PC3/SSE-07"}),
        ),
    ),
    DemoProposal(
        title="Reconocer las finanzas populares y solidarias en la Ley Orgánica de Economía "
        "Popular y Solidaria",
        summary="Dar a las cajas de ahorro comunitarias y a las cooperativas de ahorro y "
        "crédito un marco de supervisión adaptado a su tamaño.",
        text=md("""
            ## Antecedentes

            Las cajas de ahorro comunitarias y los bancos comunales llegan a zonas rurales donde
            no hay ninguna agencia bancaria.

            ## Propuesta

            1. Una supervisión proporcional al tamaño de cada entidad.
            2. Un fondo de garantía de depósitos propio del sector popular y solidario.
        """),
        lead="France",
        author="claire",
        co_authors=("youssef",),
        body=ECUADOR_ASSEMBLY,
        occasion="ecuador_consultation",
        themes=(1, 8, 10),
        language="es",
        state=ProposalState.CLOSED,
        steps=(
            Step("submit_for_review", "claire"),
            Step("approve", "rita"),
            endorse("andres"),
            endorse("camila"),
            endorse("claire"),
            Step("submit", "sam", arguments={"reference": "AN-EC-2014-0931"}),
            Step(
                "record_outcome",
                "sam",
                arguments={
                    "outcome": "adopted_in_part",
                    "note": "Se incorporó la supervisión proporcional; el fondo de garantía "
                    "queda para el reglamento.",
                    "link": "https://www.asambleanacional.gob.ec/",
                },
            ),
        ),
    ),
    DemoProposal(
        title="Sécuriser le statut d'entrepreneur-salarié des coopératives d'activité et d'emploi",
        summary="Donner aux entrepreneurs des coopératives d'activité et d'emploi les droits "
        "des salariés tout en gardant leur autonomie.",
        text=md("""
            ## Proposition

            Créer dans le code du travail le statut d'entrepreneur-salarié associé :

            - contrat de travail avec la coopérative ;
            - protection sociale des salariés ;
            - accès au sociétariat après trois ans.
        """),
        lead="France",
        author="claire",
        body=FRENCH_ASSEMBLY,
        occasion="french_consultation",
        themes=(8, 10),
        language="fr",
        state=ProposalState.CLOSED,
        steps=(
            Step("submit_for_review", "claire"),
            Step("approve", "ines"),
            endorse("claire"),
            endorse("youssef"),
            Step("submit", "sam", arguments={"reference": "AN n° 1891"}),
            Step(
                "record_outcome",
                "sam",
                arguments={
                    "outcome": "adopted",
                    "note": "Repris dans le titre consacré aux coopératives.",
                    "link": "https://www.assemblee-nationale.fr/",
                },
            ),
        ),
    ),
    DemoProposal(
        title="Un label national pour les monnaies locales complémentaires",
        summary="Reconnaître les monnaies locales complémentaires comme titres de paiement.",
        text=md("""
            ## Proposition

            Reconnaître dans la loi les monnaies locales complémentaires émises par des
            associations ou des coopératives, et leur ouvrir le paiement de services publics
            locaux.
        """),
        lead="France",
        author="claire",
        body=FRENCH_ASSEMBLY,
        occasion="french_consultation",
        themes=(11, 12),
        language="fr",
        state=ProposalState.WITHDRAWN,
        steps=(
            Step(
                "withdraw",
                "claire",
                comment="Regroupée avec la proposition sur les pôles territoriaux.",
            ),
        ),
    ),
    DemoProposal(
        title="Proclaim an International Day of the Social and Solidarity Economy",
        summary="Ask the General Assembly to proclaim an international day to make the SSE "
        "better known.",
        text=md("""
            ## Proposal

            The General Assembly proclaims an International Day of the Social and Solidarity
            Economy, observed each year by Member States, UN agencies and civil society.
        """),
        lead="Morocco",
        author="youssef",
        body="UN General Assembly",
        occasion="unga",
        themes=(17,),
        language="en",
        state=ProposalState.WITHDRAWN,
        steps=(
            Step("submit_for_review", "youssef"),
            Step("approve", "rita"),
            endorse("youssef"),
            Step(
                "withdraw",
                "sam",
                comment="The UN inter-agency task force prepares the same initiative; the "
                "group will support theirs.",
            ),
        ),
    ),
]
