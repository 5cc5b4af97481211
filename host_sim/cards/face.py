"""Card profiles as the web face offers them: {name: factory(interface) -> card}."""
from host_sim.cards import list_profiles, make_card


def profiles_for_face():
    out = {}
    for name in list_profiles():
        def factory(interface, name=name):
            if interface == "contact":
                return make_card(name)
            if interface == "magstripe":         # the stripe of the same card (track data)
                from host_sim.cards import load_profile
                p = load_profile(name)
                return {"pan": p["pan"], "expiry": p["expiry"][:4], "name": p.get("cardholder", "TEST/CARDHOLDER"),
                        "service_code": p.get("service_code", "201")}
            try:                                  # contactless cards live in their own package
                from host_sim.cards import contactless
                return contactless.make_card(name)
            except (ImportError, AttributeError, ValueError):
                raise ValueError("profile %s has no %s interface yet" % (name, interface))
        out[name] = factory
    return out
