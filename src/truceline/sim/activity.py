"""Activity: fire missions by party, sector and hour; rounds with launch and impact; truth labels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from truceline.agreement.families import FAMILIES, family
from truceline.sim.context import World, sample_front
from truceline.sim.scenario import Activity
from truceline.sim.weapons import CATALOGUE, Weapon
from truceline.sim.zones import PointZones, zones_at

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass
class Rounds:
    """One entry per round fired (each round is one incident: a launch and its impact)."""

    party: NDArray[np.str_]
    weapon: NDArray[np.str_]
    mission: IntArray
    training: NDArray[np.bool_]
    launch_t: FloatArray
    launch_x: FloatArray
    launch_y: FloatArray
    impact_t: FloatArray
    impact_x: FloatArray
    impact_y: FloatArray
    launch_db: FloatArray
    impact_db: FloatArray

    def __len__(self) -> int:
        return int(self.launch_t.size)


def _diurnal(cfg: Activity, local_h: FloatArray) -> FloatArray:
    g = (1.0 + np.cos(2 * np.pi * (local_h - cfg.diurnal_peak_h) / 24.0)) / 2.0
    return (1.0 - cfg.diurnal_depth) + cfg.diurnal_depth * 2.0 * g


def _sector_weight(world: World, cfg: Activity, sector: NDArray[np.int32]) -> FloatArray:
    """Relative firing rate of each point's sector (1 where not given)."""
    ids = world.sector_ids
    w = np.ones(sector.shape)
    for sid, weight in cfg.sector_weights.items():
        if sid not in ids:
            raise ValueError(f"activity.sector_weights: unknown sector {sid!r}; the agreement has {list(ids)}")
        w[sector == ids.index(sid)] = weight
    return w


def _escalation(world: World, cfg: Activity, t_s: FloatArray, sector: NDArray[np.int32]) -> FloatArray:
    f = np.ones(t_s.shape)
    ids = world.sector_ids
    for e in cfg.escalations:
        on = (t_s >= e.start_h * 3600.0) & (t_s < e.end_h * 3600.0)
        if e.sectors:
            unknown = [s for s in e.sectors if s not in ids]
            if unknown:
                raise ValueError(f"activity.escalations: unknown sector(s) {unknown}")
            on &= np.isin(sector, [ids.index(s) for s in e.sectors])
        f[on] *= e.factor
    return f


def _rotate(v: FloatArray, deg: FloatArray) -> FloatArray:
    r = np.radians(deg)
    c, s = np.cos(r), np.sin(r)
    return np.column_stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1]])


def generate_rounds(world: World, cfg: Activity, rng: np.random.Generator) -> Rounds:
    """Fire missions as a thinned Poisson process over time and along the front, then their rounds."""
    mix = {k: v for k, v in cfg.weapon_mix.items() if v > 0}
    mean_rounds = sum(v * np.mean(CATALOGUE[k].rounds) for k, v in mix.items()) / sum(mix.values())
    day = 86_400.0
    base = cfg.rounds_per_day / mean_rounds * world.duration_s / day
    # Overlapping escalations multiply: bound the rate by the largest product in force at once
    # (the product only changes at an escalation's start).
    esc_max = max(
        [1.0]
        + [
            float(np.prod([max(1.0, o.factor) for o in cfg.escalations if o.start_h <= e.start_h < o.end_h]))
            for e in cfg.escalations
        ]
    )
    peak = (1.0 - cfg.diurnal_depth) + 2.0 * cfg.diurnal_depth
    w_max = max([1.0, *cfg.sector_weights.values()])
    n_cand = rng.poisson(base * peak * esc_max * w_max)
    t = rng.uniform(0, world.duration_s, n_cand)
    p, nrm = sample_front(world, n_cand, rng)
    lon, lat = world.to_lonlat(p[:, 0], p[:, 1])
    sector = world.sector_index(lon, lat)
    local_h = world.local_hour(t)
    rate = _diurnal(cfg, local_h) * _escalation(world, cfg, t, sector) * _sector_weight(world, cfg, sector)
    accept = rng.uniform(0, 1, n_cand) < rate / (peak * esc_max * w_max)
    t, p, nrm, sector = t[accept], p[accept], nrm[accept], sector[accept]
    n = t.size
    parties = np.array(list(cfg.party_share))
    shares = np.array([cfg.party_share[k] for k in parties])
    party = rng.choice(parties, size=n, p=shares / shares.sum())
    # Which way is each party's own side at each point: probe 500 m along the normal.
    probe = zones_at(world, p[:, 0] + 500 * nrm[:, 0], p[:, 1] + 500 * nrm[:, 1], t)
    probe_party = probe.party_of()
    own = np.where(probe_party == party, 1.0, np.where(probe_party == None, 0.0, -1.0))  # noqa: E711
    keep = own != 0
    t, p, nrm, sector, party, own = t[keep], p[keep], nrm[keep], sector[keep], party[keep], own[keep]
    n = t.size
    own_dir = nrm * own[:, None]
    weapons = np.empty(n, dtype=object)
    for p_id in cfg.party_share:
        if cfg.party_share[p_id] > 0 and not any(p_id in CATALOGUE[k].parties for k in mix):
            raise ValueError(f"activity.weapon_mix: no weapon in the mix is fielded by {p_id}, which has a party_share")
    for i in range(n):
        options = [k for k in mix if party[i] in CATALOGUE[k].parties]
        w = np.array([mix[k] for k in options])
        weapons[i] = options[rng.choice(len(options), p=w / w.sum())]
    training = rng.uniform(0, 1, n) < cfg.training_share
    salvo_share = np.zeros(n)
    ids = world.sector_ids
    for e in cfg.escalations:
        if e.salvo_share is not None:
            on = (t >= e.start_h * 3600.0) & (t < e.end_h * 3600.0)
            if e.sectors:
                on &= np.isin(sector, [ids.index(sid) for sid in e.sectors])
            salvo_share[on] = np.maximum(salvo_share[on], e.salvo_share)
    rounds = _rounds(world, cfg, rng, t, p, own_dir, party, weapons, training, salvo_share)
    return _drop_stray_training(world, _drop_stray_launches(world, rounds))


def _drop_stray_launches(world: World, r: Rounds) -> Rounds:
    """A party fires from its own area: drop rounds that a bend of the line (the launch is placed
    behind the line along the local normal) puts in the other party's area or in none."""
    if not len(r):
        return r
    lz = zones_at(world, r.launch_x, r.launch_y, r.launch_t)
    keep = lz.party_of() == r.party
    return Rounds(**{f: getattr(r, f)[keep] for f in Rounds.__dataclass_fields__})


def _drop_stray_training(world: World, r: Rounds) -> Rounds:
    """Training fire is lawful by design: drop rounds that a bend of the line puts on the wrong side,
    in the buffer zone, or (the launch) within the withdrawal distance of the weapon's class."""
    sel = np.flatnonzero(r.training)
    if not sel.size:
        return r
    lz = zones_at(world, r.launch_x[sel], r.launch_y[sel], r.launch_t[sel])
    iz = zones_at(world, r.impact_x[sel], r.impact_y[sel], r.impact_t[sel])
    a = world.agreement
    # Weapons without a withdrawal distance in the agreement have no zone (0 km).
    withdraw = np.array([a.withdrawal_km.get(CATALOGUE[w].weapon_class.value, 0.0) for w in r.weapon[sel]])
    in_window = _in_windows(world, r.launch_t[sel], lz, iz) | _in_windows(world, r.impact_t[sel], lz, iz)
    lawful = (
        (lz.party_of() == r.party[sel])
        & (iz.party_of() == r.party[sel])
        & ~lz.in_buffer
        & ~iz.in_buffer
        & (lz.distance_km > withdraw)
        & (iz.site < 0)
        & (lz.site < 0)
        & ~in_window
    )
    keep = np.ones(len(r), dtype=bool)
    keep[sel[~lawful]] = False
    return Rounds(**{f: getattr(r, f)[keep] for f in Rounds.__dataclass_fields__})


def _rounds(
    world: World,
    cfg: Activity,
    rng: np.random.Generator,
    t: FloatArray,
    p: FloatArray,
    own_dir: FloatArray,
    party: NDArray[np.str_],
    weapons: NDArray[np.object_],
    training: NDArray[np.bool_],
    salvo_share: FloatArray,
) -> Rounds:
    n = t.size
    cat: list[Weapon] = [CATALOGUE[w] for w in weapons]
    rmin = np.array([w.min_range_km for w in cat], dtype=float) * 1000.0
    rmax = np.array([w.max_range_km for w in cat], dtype=float) * 1000.0
    rng_m = rng.uniform(rmin, rmax)
    withdraw_km = [world.agreement.withdrawal_km.get(w.weapon_class.value, 0.0) for w in cat]
    withdraw = np.array(withdraw_km, dtype=float) * 1000.0
    behind = np.where(
        training,
        withdraw + rng.uniform(2_000, 10_000, n),
        np.maximum(200.0, rng.uniform(0.15, 0.6, n) * rng_m),
    )
    lateral = np.column_stack([own_dir[:, 1], -own_dir[:, 0]]) * rng.normal(0, 300.0, n)[:, None]
    launch = p + own_dir * behind[:, None] + lateral
    aim = np.where(training[:, None], own_dir, -own_dir)
    aim = _rotate(aim, rng.normal(0, cfg.aim_sigma_deg, n))
    target = launch + aim * rng_m[:, None]
    # Rounds of each mission.
    lo = np.array([w.rounds[0] for w in cat], dtype=np.int64)
    hi = np.array([w.rounds[1] for w in cat], dtype=np.int64)
    count = np.where(rng.uniform(0, 1, n) < salvo_share, hi, rng.integers(lo, hi + 1))
    mission = np.repeat(np.arange(n), count)
    k = np.arange(mission.size) - np.repeat(np.cumsum(count) - count, count)
    interval = np.array([w.interval_s for w in cat], dtype=float)[mission]
    gaps = interval * rng.uniform(0.8, 1.2, mission.size)
    gaps[k == 0] = 0.0
    offsets = np.cumsum(gaps)
    offsets -= np.repeat(offsets[np.cumsum(count) - count], count)
    launch_t = t[mission] + offsets
    spread = np.where(interval < 1.0, 5.0, 25.0)
    lx = launch[mission, 0] + rng.normal(0, 1, mission.size) * spread
    ly = launch[mission, 1] + rng.normal(0, 1, mission.size) * spread
    r_m = rng_m[mission]
    disp = np.where(interval < 1.0, 0.01 * r_m, 0.004 * r_m) + 30.0
    ix = target[mission, 0] + rng.normal(0, 1, mission.size) * disp
    iy = target[mission, 1] + rng.normal(0, 1, mission.size) * disp
    dist = np.hypot(ix - lx, iy - ly)
    speed = np.array([w.speed_ms for w in cat], dtype=float)[mission]
    tof = dist / speed * rng.uniform(0.97, 1.03, mission.size)
    launch_db = np.array([w.launch_db for w in cat], dtype=float)[mission] + rng.normal(0, 2.0, mission.size)
    impact_db = np.array([w.impact_db for w in cat], dtype=float)[mission] + rng.normal(0, 2.0, mission.size)
    inside = (launch_t >= 0) & (launch_t + tof < world.duration_s)
    order = np.argsort(launch_t[inside], kind="stable")

    def pick(a: np.ndarray) -> np.ndarray:
        return a[inside][order]

    return Rounds(
        party=pick(party[mission]).astype(str),
        weapon=pick(weapons[mission]).astype(str),
        mission=pick(mission),
        training=pick(training[mission]),
        launch_t=pick(launch_t),
        launch_x=pick(lx),
        launch_y=pick(ly),
        impact_t=pick(launch_t + tof),
        impact_x=pick(ix),
        impact_y=pick(iy),
        launch_db=pick(launch_db),
        impact_db=pick(impact_db),
    )


def _window_areas(
    world: World, t_s: FloatArray, lz: PointZones, iz: PointZones
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Whether the launch or impact (first), and the launch alone (second), lie in the area of a
    ceasefire window open at ``t_s``."""
    a = world.agreement
    site_ids = [s.id for s in a.protected_sites]
    sector_ids = [s.id for s in a.sectors]
    either = np.zeros(t_s.shape, dtype=bool)
    launch = np.zeros(t_s.shape, dtype=bool)
    for w in a.ceasefire_windows:
        s0 = (w.start - world.start).total_seconds()
        s1 = (w.end - world.start).total_seconds()
        active = (t_s >= s0) & (t_s < s1)
        if not active.any():
            continue
        in_l = np.full(t_s.shape, w.whole_line)
        in_i = np.full(t_s.shape, w.whole_line)
        for sid in w.sites:
            k = site_ids.index(sid)
            in_l |= lz.site == k
            in_i |= iz.site == k
        for sec in w.sectors:
            k = sector_ids.index(sec)
            in_l |= lz.sector == k
            in_i |= iz.sector == k
        either |= active & (in_l | in_i)
        launch |= active & in_l
    return either, launch


def _in_windows(world: World, t_s: FloatArray, lz: PointZones, iz: PointZones) -> NDArray[np.bool_]:
    """Whether the launch or impact lies in the area of a ceasefire window open at ``t_s``."""
    return _window_areas(world, t_s, lz, iz)[0]


@dataclass
class RoundTruth:
    """Agreement geometry at each round's launch and impact, and the violation families it meets."""

    launch: PointZones
    impact: PointZones
    families: list[list[str]]
    #: Per family, whether the violation is placed at the impact (else at the launch): the point
    #: that makes the round a violation (the launch when both do).
    at_impact: dict[str, NDArray[np.bool_]]


@dataclass
class JudgedRounds:
    """What a round labeller sees: the rounds and the agreement's geometry at their launch and impact."""

    world: World
    rounds: Rounds
    launch: PointZones
    impact: PointZones

    @property
    def none(self) -> NDArray[np.bool_]:
        return np.zeros(len(self.rounds), dtype=bool)


#: A round labeller's answer: which rounds violate the family, and whether each is placed at the impact.
RoundLabels = tuple[NDArray[np.bool_], NDArray[np.bool_]]
RoundLabeller = Callable[[JudgedRounds], RoundLabels]

#: The simulator's truth labelling of rounds, by rule family id: one labeller for each family
#: whose truth comes from rounds (:attr:`truceline.agreement.families.Family.fire`).
ROUND_LABELLERS: dict[str, RoundLabeller] = {}


def round_labeller(family_id: str) -> Callable[[RoundLabeller], RoundLabeller]:
    """Register the round labeller of a declared family of fire (decorator).

    Raises
    ------
    ValueError
        For a family not declared, or whose truth does not come from rounds.
    """
    if not family(family_id).fire:
        raise ValueError(f"rule family {family_id!r} does not take its truth from rounds")

    def register(fn: RoundLabeller) -> RoundLabeller:
        ROUND_LABELLERS[family_id] = fn
        return fn

    return register


@round_labeller("fire_across_line")
def _across_line(j: JudgedRounds) -> RoundLabels:
    lp, ip = j.launch.party_of(), j.impact.party_of()
    return (lp != None) & (ip != None) & (lp != ip), j.none  # noqa: E711


@round_labeller("buffer_zone")
def _buffer_zone(j: JudgedRounds) -> RoundLabels:
    # The buffer family covers disengagement areas too (both are areas where no fire is allowed).
    a, lz, iz = j.world.agreement, j.launch, j.impact
    l_buffer = ((a.buffer_zone_km > 0) & lz.in_buffer) | (lz.disengagement >= 0)
    return l_buffer | ((a.buffer_zone_km > 0) & iz.in_buffer) | (iz.disengagement >= 0), ~l_buffer


@round_labeller("withdrawal_zone")
def _withdrawal_zone(j: JudgedRounds) -> RoundLabels:
    r, lp = j.rounds, j.launch.party_of()
    wclass = np.array([CATALOGUE[w].weapon_class.value for w in r.weapon])
    withdrawal = j.none
    for c, mask in j.launch.in_withdrawal.items():
        withdrawal |= (wclass == c) & mask & (lp == r.party)
    return withdrawal, j.none


@round_labeller("protected_site")
def _protected_site(j: JudgedRounds) -> RoundLabels:
    return j.impact.site >= 0, ~j.none


@round_labeller("ceasefire_window")
def _ceasefire_window(j: JudgedRounds) -> RoundLabels:
    window, window_launch = _window_areas(j.world, j.rounds.launch_t, j.launch, j.impact)
    return window, ~window_launch


def label_rounds(world: World, r: Rounds) -> RoundTruth:
    """Apply the agreement's rules to the true positions (the reference the scorer grades against).

    Every declared family of fire is labelled by its registered labeller, in the declared order.
    """
    lz = zones_at(world, r.launch_x, r.launch_y, r.launch_t)
    iz = zones_at(world, r.impact_x, r.impact_y, r.impact_t)
    judged = JudgedRounds(world, r, lz, iz)
    fire = [f.id for f in FAMILIES if f.fire]
    missing = [f for f in fire if f not in ROUND_LABELLERS]
    if missing:
        raise RuntimeError(f"rule families of fire without a round labeller in the simulator: {missing}")
    labelled = {f: ROUND_LABELLERS[f](judged) for f in fire}
    families = [[f for f in fire if labelled[f][0][i]] for i in range(len(r))]
    return RoundTruth(lz, iz, families, {f: at for f, (_, at) in labelled.items()})
