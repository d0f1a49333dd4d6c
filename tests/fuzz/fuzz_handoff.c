/* libFuzzer target: the handoff record decoders (format/handoff.c).
 *
 * Input: bytes taken both as a binary VhdbootDisk record and as the text of
 * vhdboot.disk=. A record the binary decoder accepts must encode back to the
 * very same bytes, and its text form must parse back to the same record; a
 * text the parser accepts must format to a text that parses again. A
 * refusal must come with a message. */
#include <string.h>
#include "support.h"
#include "format/handoff.h"

static uint8_t again[VB_HANDOFF_MAX_BYTES];
static char text[VB_HANDOFF_TEXT_MAX];
static vb_handoff first, second;

/* Fails unless a refusal left a terminated, non-empty message. */
static void expect_message(const vb_diag *d)
{
    if (!memchr(d->text, '\0', sizeof d->text) || !d->text[0])
        fuzz_fail("refusal without a message");
}

/* Text form of first parses to a record whose text is the same. */
static void text_round_trip(void)
{
    vb_diag d = { 0 };
    if (vb_handoff_format_text(&first, text, sizeof text, &d) != VB_OK)
        fuzz_fail("a valid record has no text form");
    if (vb_handoff_parse_text(text, strlen(text), &second, &d) != VB_OK)
        fuzz_fail("the text form of a valid record does not parse");
    static char text2[VB_HANDOFF_TEXT_MAX];
    if (vb_handoff_format_text(&second, text2, sizeof text2, &d) != VB_OK || strcmp(text, text2) != 0)
        fuzz_fail("text form changes across a round trip");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vb_diag d = { 0 };
    vb_status st = vb_handoff_decode(data, size, &first, &d);
    if (st == VB_OK) {
        size_t len = 0;
        if (vb_handoff_encode(&first, again, sizeof again, &len, &d) != VB_OK)
            fuzz_fail("a decoded record does not encode");
        if (len != size || memcmp(again, data, size) != 0)
            fuzz_fail("a decoded record encodes to other bytes");
        text_round_trip();
    } else {
        if (st != VB_ERR_INVALID_ARG && st != VB_ERR_BAD_VERSION)
            fuzz_fail("decode failed with an unexpected status");
        expect_message(&d);
    }
    vb_diag d2 = { 0 };
    st = vb_handoff_parse_text((const char *)data, size, &first, &d2);
    if (st == VB_OK)
        text_round_trip();
    else if (st != VB_ERR_INVALID_ARG && st != VB_ERR_BAD_VERSION)
        fuzz_fail("text parse failed with an unexpected status");
    else
        expect_message(&d2);
    return 0;
}
