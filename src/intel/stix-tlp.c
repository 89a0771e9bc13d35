/*
 * stix-tlp.c - the fixed TLP marking-definition ids; see stix-tlp.h.
 */
#include "intel/stix-tlp.h"

#include <string.h>

static const struct stix_tlp_marking markings[] = {
    {TLP_CLEAR, "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", "clear",
     "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE", "white"},
    {TLP_GREEN, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", "green",
     "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN", "green"},
    {TLP_AMBER, "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber",
     "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER", "amber"},
    {TLP_AMBER_STRICT, "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
     "TLP:AMBER+STRICT", "amber+strict", NULL, NULL, NULL},
    {TLP_RED, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red",
     "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED", "red"},
};

const struct stix_tlp_marking *stix_tlp_marking(enum tlp t)
{
    for (size_t i = 0; i < sizeof(markings) / sizeof(markings[0]); i++)
        if (markings[i].tlp == t)
            return &markings[i];
    return NULL;
}

int stix_tlp_of_marking_id(const char *id)
{
    for (size_t i = 0; i < sizeof(markings) / sizeof(markings[0]); i++)
        if (!strcmp(id, markings[i].v2_id) || (markings[i].v1_id && !strcmp(id, markings[i].v1_id)))
            return (int)markings[i].tlp;
    return -1;
}
