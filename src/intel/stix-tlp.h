/*
 * stix-tlp.h - the Traffic Light Protocol as STIX marks it.
 *
 * STIX 2.1 (section 7.2.1.4) fixes four TLP 1.0 marking-definition objects
 * by id (white, green, amber, red); the TLP 2.0 extension of the OASIS
 * common objects fixes five more (clear, green, amber, amber+strict, red),
 * marked by the extension
 * extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d with a
 * "tlp_2_0" property. Readers recognise all nine ids; the writer marks its
 * objects with the TLP 2.0 marking and, where TLP 1.0 has the level, the
 * TLP 1.0 one too (amber+strict has none).
 */
#ifndef KENCHI_INTEL_STIX_TLP_H
#define KENCHI_INTEL_STIX_TLP_H

#include "intel/ioc.h"

#define STIX_TLP2_EXTENSION_ID "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

struct stix_tlp_marking {
    enum tlp tlp;
    const char *v2_id;   /* TLP 2.0 marking-definition id */
    const char *v2_name; /* "TLP:AMBER+STRICT" */
    const char *v2_word; /* its "tlp_2_0" value: "amber+strict" */
    const char *v1_id;   /* TLP 1.0 marking-definition id, or NULL */
    const char *v1_name; /* "TLP:WHITE" */
    const char *v1_word; /* its definition.tlp value: "white" */
};

/* The markings of a level (TLP_CLEAR .. TLP_RED), or NULL. */
const struct stix_tlp_marking *stix_tlp_marking(enum tlp t);

/* The level of one of the nine fixed marking-definition ids, or -1. */
int stix_tlp_of_marking_id(const char *id);

/* The created times the two definitions give their objects. */
#define STIX_TLP1_CREATED "2017-01-20T00:00:00.000Z"
#define STIX_TLP2_CREATED "2022-10-01T00:00:00.000Z"

#endif
