/* Unit tests: the handoff record (format/handoff.c) — every field at its
 * documented offset, round trips of the binary and text forms, and every
 * rejection of both decoders. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "format/bytes.h"
#include "format/handoff.h"

static uint8_t buf[VB_HANDOFF_MAX_BYTES];
static char text[VB_HANDOFF_TEXT_MAX];
static vb_handoff in, out;

/* A 3-layer record: GPT host, the base on another (MBR, NTFS) volume. */
static void make_record(vb_handoff *h)
{
    memset(h, 0, sizeof *h);
    h->mode = VB_HANDOFF_VOLATILE;
    h->size = 0x123456789A00ull;
    for (int i = 0; i < 16; i++) {
        h->uuid[i] = (uint8_t)(0x10 + i);
        h->host.disk_guid[i] = (uint8_t)(0x20 + i);
        h->host.part_guid[i] = (uint8_t)(0x30 + i);
    }
    h->host.scheme = VB_HANDOFF_GPT;
    h->host.fs = VB_HANDOFF_FAT;
    h->host.part_number = 3;
    h->host.start_lba = 0x1122334455ull;
    h->layer_count = 3;
    const char *paths[3] = { "/vms/top child.vhd", "/vms/mid,x:y%.vhd", "/base/b\xc3\xa9se.vhd" };
    const uint8_t types[3] = { 4, 4, 3 };
    for (unsigned l = 0; l < 3; l++) {
        h->layers[l].type = types[l];
        strcpy(h->layers[l].path, paths[l]);
        for (int i = 0; i < 16; i++)
            h->layers[l].uuid[i] = (uint8_t)(0x40 + 0x10 * l + i);
    }
    memcpy(h->layers[0].uuid, h->uuid, 16);
    h->layers[2].has_volume = true;
    h->layers[2].volume.scheme = VB_HANDOFF_MBR;
    h->layers[2].volume.fs = VB_HANDOFF_NTFS;
    h->layers[2].volume.part_number = 2;
    h->layers[2].volume.start_lba = 2048;
    h->layers[2].volume.mbr_signature = 0xA1B2C3D4;
}

/* Recomputes the CRC of an edited record, so a test reaches later checks. */
static void reseal(uint8_t *b, size_t len)
{
    memset(b + 16, 0, 4);
    vb_put_le32(b + 16, vb_crc32(b, len));
}

static void test_crc32_known_value(void **state)
{
    (void)state;
    assert_int_equal(vb_crc32("123456789", 9), 0xCBF43926u);
    assert_int_equal(vb_crc32("", 0), 0);
}

/* Every field lands at the offset handoff.h documents. */
static void test_every_field_at_its_offset(void **state)
{
    (void)state;
    size_t len = 0;
    make_record(&in);
    assert_int_equal(vb_handoff_encode(&in, buf, sizeof buf, &len, NULL), VB_OK);
    size_t expect = 40 + 48 + 16 + (20 + 18) + (20 + 17) + (20 + 48 + 15);
    assert_int_equal(len, expect);
    assert_memory_equal(buf, "VHDBDISK", 8);
    assert_int_equal(vb_le16(buf + 8), 1);
    assert_int_equal(vb_le16(buf + 10), 40);
    assert_int_equal(vb_le32(buf + 12), len);
    uint32_t crc = vb_le32(buf + 16);
    memset(buf + 16, 0, 4);
    assert_int_equal(vb_crc32(buf, len), crc);
    assert_int_equal(buf[20], VB_HANDOFF_VOLATILE);
    assert_int_equal(buf[21], 3);
    assert_int_equal(vb_le64(buf + 24), 0x123456789A00ull);
    const uint8_t *v = buf + 40;
    assert_int_equal(v[0], 1);
    assert_int_equal(v[1], 1);
    assert_int_equal(vb_le32(v + 4), 3);
    assert_int_equal(vb_le64(v + 8), 0x1122334455ull);
    assert_memory_equal(v + 16, in.host.disk_guid, 16);
    assert_memory_equal(v + 32, in.host.part_guid, 16);
    assert_memory_equal(buf + 88, in.uuid, 16);
    const uint8_t *l = buf + 104;
    assert_int_equal(l[0], 4);
    assert_int_equal(l[1], 0);
    assert_int_equal(vb_le16(l + 2), 18);
    assert_memory_equal(l + 4, in.layers[0].uuid, 16);
    assert_memory_equal(l + 20, "/vms/top child.vhd", 18);
    l += 38 + 37;
    assert_int_equal(l[0], 3);
    assert_int_equal(l[1], 1);
    assert_int_equal(vb_le16(l + 2), 15);
    assert_int_equal(l[20], 2);              /* MBR */
    assert_int_equal(l[21], 2);              /* NTFS */
    assert_int_equal(vb_le32(l + 24), 2);
    assert_int_equal(vb_le64(l + 28), 2048);
    assert_int_equal(vb_le32(l + 36), 0xA1B2C3D4u);
    assert_memory_equal(l + 68, "/base/b\xc3\xa9se.vhd", 15);
}

static void assert_same(const vb_handoff *a, const vb_handoff *b)
{
    assert_int_equal(a->mode, b->mode);
    assert_int_equal(a->size, b->size);
    assert_memory_equal(a->uuid, b->uuid, 16);
    assert_memory_equal(&a->host, &b->host, sizeof a->host);
    assert_int_equal(a->layer_count, b->layer_count);
    for (unsigned i = 0; i < a->layer_count; i++) {
        assert_int_equal(a->layers[i].type, b->layers[i].type);
        assert_memory_equal(a->layers[i].uuid, b->layers[i].uuid, 16);
        assert_int_equal(a->layers[i].has_volume, b->layers[i].has_volume);
        if (a->layers[i].has_volume)
            assert_memory_equal(&a->layers[i].volume, &b->layers[i].volume, sizeof a->layers[i].volume);
        assert_string_equal(a->layers[i].path, b->layers[i].path);
    }
}

/* The text form of a GPT volume carries no partition number or start LBA. */
static void drop_gpt_position(vb_handoff *h)
{
    vb_handoff_volume *vols[VB_HANDOFF_MAX_LAYERS + 1];
    vols[0] = &h->host;
    for (unsigned i = 0; i < h->layer_count; i++)
        vols[i + 1] = &h->layers[i].volume;
    for (unsigned i = 0; i <= h->layer_count; i++)
        if (vols[i]->scheme == VB_HANDOFF_GPT)
            vols[i]->part_number = 0, vols[i]->start_lba = 0;
}

static void test_binary_round_trip(void **state)
{
    (void)state;
    size_t len = 0;
    make_record(&in);
    assert_int_equal(vb_handoff_encode(&in, buf, sizeof buf, &len, NULL), VB_OK);
    assert_int_equal(vb_handoff_decode(buf, len, &out, NULL), VB_OK);
    assert_same(&in, &out);
    /* the largest record: 32 layers, each with a volume and a 1023-byte path */
    memset(&in, 0, sizeof in);
    make_record(&in);
    in.layer_count = 32;
    for (unsigned i = 0; i < 32; i++) {
        vb_handoff_layer *l = &in.layers[i];
        l->type = i == 31 ? 2 : 4;
        l->has_volume = true;
        l->volume = in.host;
        memset(l->path, 'a', 1023);
        l->path[0] = '/';
        l->path[1023] = '\0';
    }
    assert_int_equal(vb_handoff_encode(&in, buf, sizeof buf, &len, NULL), VB_OK);
    assert_int_equal(len, VB_HANDOFF_MAX_BYTES);
    assert_int_equal(vb_handoff_decode(buf, len, &out, NULL), VB_OK);
    assert_same(&in, &out);
    assert_int_equal(vb_handoff_format_text(&in, text, sizeof text, NULL), VB_OK);
    assert_int_equal(vb_handoff_parse_text(text, strlen(text), &out, NULL), VB_OK);
    drop_gpt_position(&in);
    assert_same(&in, &out);
}

static void test_text_form(void **state)
{
    (void)state;
    make_record(&in);
    assert_int_equal(vb_handoff_format_text(&in, text, sizeof text, NULL), VB_OK);
    assert_string_equal(text,
        "v1,mode=volatile,size=20015998343680,uuid=10111213-1415-1617-1819-1a1b1c1d1e1f,"
        "host=fat:gpt:33323130-3534-3736-3839-3a3b3c3d3e3f:23222120-2524-2726-2829-2a2b2c2d2e2f,"
        "layer=differencing:10111213-1415-1617-1819-1a1b1c1d1e1f:/vms/top%20child.vhd,"
        "layer=differencing:50515253-5455-5657-5859-5a5b5c5d5e5f:/vms/mid%2Cx%3Ay%25.vhd,"
        "layer=dynamic:60616263-6465-6667-6869-6a6b6c6d6e6f:/base/b%C3%A9se.vhd:ntfs:mbr:a1b2c3d4:2:2048");
    assert_int_equal(vb_handoff_parse_text(text, strlen(text), &out, NULL), VB_OK);
    drop_gpt_position(&in);
    assert_same(&in, &out);
    /* keys in another order, disk GUID left out (zero), upper-case hex */
    const char *other = "v1,layer=fixed:10111213-1415-1617-1819-1A1B1C1D1E1F:/a.vhd,size=512,"
                        "host=ntfs:gpt:33323130-3534-3736-3839-3a3b3c3d3e3f,mode=readonly,"
                        "uuid=10111213-1415-1617-1819-1a1b1c1d1e1f";
    assert_int_equal(vb_handoff_parse_text(other, strlen(other), &out, NULL), VB_OK);
    assert_int_equal(out.mode, VB_HANDOFF_READONLY);
    assert_int_equal(out.size, 512);
    assert_int_equal(out.host.fs, VB_HANDOFF_NTFS);
    assert_true(memcmp(out.host.disk_guid, (uint8_t[16]){ 0 }, 16) == 0);
    assert_int_equal(out.layers[0].type, 2);
    assert_int_equal(out.layers[0].uuid[10], 0x1A);
    /* a text that does not fit */
    assert_int_equal(vb_handoff_format_text(&in, text, 40, NULL), VB_ERR_OUT_OF_RANGE);
    assert_int_equal(strlen(text), 39);
}

static void test_guid_text(void **state)
{
    (void)state;
    const uint8_t g[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
    char t[37];
    vb_handoff_guid_text(g, t);
    assert_string_equal(t, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"); /* the ESP type GUID */
    vb_handoff_uuid_text(g, t);
    assert_string_equal(t, "28732ac1-1ff8-d211-ba4b-00a0c93ec93b");
}

/* Encodes make_record's record, lets edit change it, reseals, decodes:
 * expects status and a diagnostic containing needle. */
static void expect_decode(void (*edit)(uint8_t *b, size_t *len), bool seal, vb_status status, const char *needle)
{
    size_t len = 0;
    vb_diag d = { 0 };
    make_record(&in);
    assert_int_equal(vb_handoff_encode(&in, buf, sizeof buf, &len, NULL), VB_OK);
    edit(buf, &len);
    if (seal && len >= 20)
        reseal(buf, len);
    assert_int_equal(vb_handoff_decode(buf, len, &out, &d), status);
    if (!strstr(d.text, needle))
        fail_msg("diagnostic '%s' lacks '%s'", d.text, needle);
}

static void e_short(uint8_t *b, size_t *len) { (void)b; *len = 39; }
static void e_magic(uint8_t *b, size_t *len) { (void)len; b[0] = 'X'; }
static void e_version(uint8_t *b, size_t *len) { (void)len; vb_put_le16(b + 8, 2); }
static void e_header_size(uint8_t *b, size_t *len) { (void)len; vb_put_le16(b + 10, 44); }
static void e_length(uint8_t *b, size_t *len) { (void)b; *len -= 1; }
static void e_flip(uint8_t *b, size_t *len) { b[*len - 1] ^= 1; }
static void e_reserved(uint8_t *b, size_t *len) { (void)len; b[33] = 1; }
static void e_mode(uint8_t *b, size_t *len) { (void)len; b[20] = 4; }
static void e_mode0(uint8_t *b, size_t *len) { (void)len; b[20] = 0; }
static void e_layers0(uint8_t *b, size_t *len) { (void)len; b[21] = 0; }
static void e_layers33(uint8_t *b, size_t *len) { (void)len; b[21] = 33; }
static void e_size0(uint8_t *b, size_t *len) { (void)len; vb_put_le32(b + 24, 0); vb_put_le32(b + 28, 0); }
static void e_size_odd(uint8_t *b, size_t *len) { (void)len; b[24] = 1; }
static void e_scheme(uint8_t *b, size_t *len) { (void)len; b[40] = 3; }
static void e_fs(uint8_t *b, size_t *len) { (void)len; b[41] = 9; }
static void e_vol_reserved(uint8_t *b, size_t *len) { (void)len; b[42] = 1; }
static void e_gpt_zero(uint8_t *b, size_t *len) { (void)len; memset(b + 72, 0, 16); }
static void e_mbr_partno0(uint8_t *b, size_t *len) { (void)len; vb_put_le32(b + 179 + 24, 0); }
static void e_mbr_guid(uint8_t *b, size_t *len) { (void)len; b[179 + 20 + 40] = 1; }
static void e_mbr_pad(uint8_t *b, size_t *len) { (void)len; b[179 + 20 + 20] = 1; }
static void e_type_top(uint8_t *b, size_t *len) { (void)len; b[104] = 3; }
static void e_type_base(uint8_t *b, size_t *len) { (void)len; b[179] = 4; }
static void e_flags(uint8_t *b, size_t *len) { (void)len; b[105] = 2; }
static void e_path_len0(uint8_t *b, size_t *len) { (void)len; vb_put_le16(b + 106, 0); }
static void e_path_long(uint8_t *b, size_t *len) { (void)len; vb_put_le16(b + 106, 1024); }
static void e_path_past(uint8_t *b, size_t *len) { (void)len; vb_put_le16(b + 179 + 2, 16); }
static void e_path_nul(uint8_t *b, size_t *len) { (void)len; b[124 + 4] = 0; }
static void e_path_rel(uint8_t *b, size_t *len) { (void)len; b[124] = 'v'; }
static void e_path_ctl(uint8_t *b, size_t *len) { (void)len; b[124 + 8] = '\n'; }
static void e_path_bs(uint8_t *b, size_t *len) { (void)len; b[124 + 4] = '\\'; }
static void e_path_dotdot(uint8_t *b, size_t *len) { (void)len; memcpy(b + 124, "/../", 4); }
static void e_path_empty(uint8_t *b, size_t *len) { (void)len; b[124 + 1] = '/'; }
static void e_trailing(uint8_t *b, size_t *len) { b[*len] = 0; *len += 1; vb_put_le32(b + 12, (uint32_t)*len); }
static void e_cut_layer(uint8_t *b, size_t *len) { *len = 110; vb_put_le32(b + 12, (uint32_t)*len); }
static void e_cut_volume(uint8_t *b, size_t *len) { *len = 179 + 30; vb_put_le32(b + 12, (uint32_t)*len); }
static void e_cut_host(uint8_t *b, size_t *len) { *len = 60; vb_put_le32(b + 12, (uint32_t)*len); }
static void e_more_layers(uint8_t *b, size_t *len) { (void)len; b[21] = 4; }

static void test_binary_rejections(void **state)
{
    (void)state;
    expect_decode(e_short, false, VB_ERR_INVALID_ARG, "shorter than its header");
    expect_decode(e_magic, true, VB_ERR_INVALID_ARG, "bad magic");
    expect_decode(e_version, true, VB_ERR_BAD_VERSION, "version 2");
    expect_decode(e_header_size, true, VB_ERR_INVALID_ARG, "header size 44");
    expect_decode(e_length, false, VB_ERR_INVALID_ARG, "length field");
    expect_decode(e_flip, false, VB_ERR_INVALID_ARG, "CRC-32 mismatch");
    expect_decode(e_reserved, true, VB_ERR_INVALID_ARG, "reserved header bytes");
    expect_decode(e_mode, true, VB_ERR_INVALID_ARG, "write mode 4");
    expect_decode(e_mode0, true, VB_ERR_INVALID_ARG, "write mode 0");
    expect_decode(e_layers0, true, VB_ERR_INVALID_ARG, "layer count 0");
    expect_decode(e_layers33, true, VB_ERR_INVALID_ARG, "layer count 33");
    expect_decode(e_size0, true, VB_ERR_INVALID_ARG, "virtual size 0");
    expect_decode(e_size_odd, true, VB_ERR_INVALID_ARG, "multiple of 512");
    expect_decode(e_scheme, true, VB_ERR_INVALID_ARG, "host volume: unknown partition scheme 3");
    expect_decode(e_fs, true, VB_ERR_INVALID_ARG, "host volume: unknown file system 9");
    expect_decode(e_vol_reserved, true, VB_ERR_INVALID_ARG, "host volume: reserved");
    expect_decode(e_gpt_zero, true, VB_ERR_INVALID_ARG, "GPT partition GUID is zero");
    expect_decode(e_mbr_partno0, true, VB_ERR_INVALID_ARG, "layer 2 volume: MBR partition number is 0");
    expect_decode(e_mbr_guid, true, VB_ERR_INVALID_ARG, "GUIDs on an MBR volume");
    expect_decode(e_mbr_pad, true, VB_ERR_INVALID_ARG, "layer 2 volume: reserved");
    expect_decode(e_type_top, true, VB_ERR_INVALID_ARG, "layer 0: type 3 where differencing expected");
    expect_decode(e_type_base, true, VB_ERR_INVALID_ARG, "layer 2: type 4 where fixed or dynamic expected");
    expect_decode(e_flags, true, VB_ERR_INVALID_ARG, "unknown flags");
    expect_decode(e_path_len0, true, VB_ERR_INVALID_ARG, "path length 0");
    expect_decode(e_path_long, true, VB_ERR_INVALID_ARG, "path length 1024");
    expect_decode(e_path_past, true, VB_ERR_INVALID_ARG, "truncated in layer 2's path");
    expect_decode(e_path_nul, true, VB_ERR_INVALID_ARG, "byte 0x00");
    expect_decode(e_path_rel, true, VB_ERR_INVALID_ARG, "does not start with '/'");
    expect_decode(e_path_ctl, true, VB_ERR_INVALID_ARG, "byte 0x0a");
    expect_decode(e_path_bs, true, VB_ERR_INVALID_ARG, "byte 0x5c");
    expect_decode(e_path_dotdot, true, VB_ERR_INVALID_ARG, "'..' part");
    expect_decode(e_path_empty, true, VB_ERR_INVALID_ARG, "empty");
    expect_decode(e_trailing, true, VB_ERR_INVALID_ARG, "1 bytes after the last layer");
    expect_decode(e_cut_layer, true, VB_ERR_INVALID_ARG, "truncated in layer 0");
    expect_decode(e_cut_volume, true, VB_ERR_INVALID_ARG, "truncated in layer 2's volume");
    expect_decode(e_cut_host, true, VB_ERR_INVALID_ARG, "truncated before the host volume");
    expect_decode(e_more_layers, true, VB_ERR_INVALID_ARG, "truncated in layer 3");
}

static void test_encode_rejections(void **state)
{
    (void)state;
    size_t len = 0;
    vb_diag d = { 0 };
    make_record(&in);
    assert_int_equal(vb_handoff_encode(&in, buf, 100, &len, &d), VB_ERR_OUT_OF_RANGE);
    in.layers[1].path[0] = 'x';
    assert_int_equal(vb_handoff_encode(&in, buf, sizeof buf, &len, &d), VB_ERR_INVALID_ARG);
    assert_int_equal(vb_handoff_format_text(&in, text, sizeof text, &d), VB_ERR_INVALID_ARG);
    assert_non_null(strstr(d.text, "layer 1"));
    make_record(&in);
    memset(in.layers[0].path, 'a', sizeof in.layers[0].path); /* unterminated */
    in.layers[0].path[0] = '/';
    assert_int_equal(vb_handoff_encode(&in, buf, sizeof buf, &len, &d), VB_ERR_INVALID_ARG);
    assert_non_null(strstr(d.text, "longer than 1023"));
    make_record(&in);
    in.host.mbr_signature = 5;
    assert_int_equal(vb_handoff_encode(&in, buf, sizeof buf, &len, &d), VB_ERR_INVALID_ARG);
    assert_non_null(strstr(d.text, "MBR signature on a GPT volume"));
}

/* Parses t, expecting status and a diagnostic containing needle. */
static void expect_text(const char *t, vb_status status, const char *needle)
{
    vb_diag d = { 0 };
    assert_int_equal(vb_handoff_parse_text(t, strlen(t), &out, &d), status);
    if (!strstr(d.text, needle))
        fail_msg("'%s': diagnostic '%s' lacks '%s'", t, d.text, needle);
}

#define U "10111213-1415-1617-1819-1a1b1c1d1e1f"
#define HOST "host=fat:gpt:" U
#define BASE "v1,mode=persistent,size=1048576,uuid=" U "," HOST

static void test_text_rejections(void **state)
{
    (void)state;
    expect_text(BASE ",layer=dynamic:" U ":/a.vhd", VB_OK, "");
    expect_text("", VB_ERR_INVALID_ARG, "empty");
    expect_text("mode=persistent", VB_ERR_INVALID_ARG, "version");
    expect_text("v2,mode=persistent", VB_ERR_BAD_VERSION, "v1");
    expect_text(BASE ",layer=dynamic:" U ":/a.vhd,", VB_ERR_INVALID_ARG, "without '='");
    expect_text(BASE ",layer=dynamic:" U ":/a.vhd,colour=red", VB_ERR_INVALID_ARG, "unknown field");
    expect_text(BASE ",layer=dynamic:" U ":/a.vhd,mode=readonly", VB_ERR_INVALID_ARG, "twice");
    expect_text("v1,mode=fast,size=512", VB_ERR_INVALID_ARG, "mode is not");
    expect_text("v1,size=12x", VB_ERR_INVALID_ARG, "size is not");
    expect_text("v1,size=99999999999999999999", VB_ERR_INVALID_ARG, "size is not");
    expect_text("v1,uuid=1234", VB_ERR_INVALID_ARG, "bad uuid");
    expect_text("v1,uuid=10111213x1415-1617-1819-1a1b1c1d1e1f", VB_ERR_INVALID_ARG, "bad uuid");
    expect_text("v1,host=ext4:gpt:" U, VB_ERR_INVALID_ARG, "not fat or ntfs");
    expect_text("v1,host=fat", VB_ERR_INVALID_ARG, "missing file system or scheme");
    expect_text("v1,host=fat:apm:1", VB_ERR_INVALID_ARG, "not gpt or mbr");
    expect_text("v1,host=fat:gpt:zz", VB_ERR_INVALID_ARG, "bad partition GUID");
    expect_text("v1,host=fat:gpt:" U ":nope", VB_ERR_INVALID_ARG, "bad disk GUID");
    expect_text("v1,host=fat:gpt:" U ":" U ":x", VB_ERR_INVALID_ARG, "extra fields");
    expect_text("v1,host=fat:mbr:1234", VB_ERR_INVALID_ARG, "8 hex digits");
    expect_text("v1,host=fat:mbr:1234567g:1:2048", VB_ERR_INVALID_ARG, "8 hex digits");
    expect_text("v1,host=fat:mbr:12345678:0:2048", VB_ERR_INVALID_ARG, "partition number");
    expect_text("v1,host=fat:mbr:12345678:4294967296:2048", VB_ERR_INVALID_ARG, "partition number");
    expect_text("v1,host=fat:mbr:12345678:1", VB_ERR_INVALID_ARG, "start LBA");
    expect_text(BASE ",layer=dynamic:" U, VB_ERR_INVALID_ARG, "TYPE:UUID:PATH");
    expect_text(BASE ",layer=sparse:" U ":/a", VB_ERR_INVALID_ARG, "unknown type");
    expect_text(BASE ",layer=dynamic:xyz:/a", VB_ERR_INVALID_ARG, "layer 0: bad UUID");
    expect_text(BASE ",layer=dynamic:" U ":/a%2", VB_ERR_INVALID_ARG, "%XX escape");
    expect_text(BASE ",layer=dynamic:" U ":/a%zz", VB_ERR_INVALID_ARG, "%XX escape");
    expect_text(BASE ",layer=dynamic:" U ":/a%00b", VB_ERR_INVALID_ARG, "byte 0x00");
    expect_text(BASE ",layer=dynamic:" U ":/a b", VB_ERR_INVALID_ARG, "must be written");
    expect_text(BASE ",layer=dynamic:" U ":/a%0Ab", VB_ERR_INVALID_ARG, "byte 0x0a");
    expect_text(BASE ",layer=dynamic:" U ":/a/../b", VB_ERR_INVALID_ARG, "'..' part");
    expect_text(BASE ",layer=dynamic:" U ":/a:ntfs:gpt", VB_ERR_INVALID_ARG, "layer 0 volume: bad partition GUID");
    expect_text(BASE ",layer=differencing:" U ":/a", VB_ERR_INVALID_ARG, "fixed or dynamic expected");
    expect_text(BASE ",layer=dynamic:" U ":/a,layer=dynamic:" U ":/b", VB_ERR_INVALID_ARG,
                "differencing expected");
    expect_text("v1,mode=persistent,size=1048576,uuid=" U ",layer=dynamic:" U ":/a", VB_ERR_INVALID_ARG,
                "needs mode, size, uuid, host");
    expect_text("v1,mode=persistent,size=1000,uuid=" U "," HOST ",layer=dynamic:" U ":/a", VB_ERR_INVALID_ARG,
                "multiple of 512");
    /* a 1024-byte path (too long) */
    char *t = malloc(8192);
    int n = snprintf(t, 8192, BASE ",layer=dynamic:" U ":/");
    memset(t + n, 'a', 1023);
    t[n + 1023] = '\0';
    expect_text(t, VB_ERR_INVALID_ARG, "longer than 1023");
    t[n + 1022] = '\0';
    expect_text(t, VB_OK, "");
    /* 33 layers */
    n = snprintf(t, 8192, BASE);
    for (int i = 0; i < 33; i++)
        n += snprintf(t + n, 8192 - n, ",layer=differencing:" U ":/a");
    expect_text(t, VB_ERR_INVALID_ARG, "more than 32 layers");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_known_value),
        cmocka_unit_test(test_every_field_at_its_offset),
        cmocka_unit_test(test_binary_round_trip),
        cmocka_unit_test(test_text_form),
        cmocka_unit_test(test_guid_text),
        cmocka_unit_test(test_binary_rejections),
        cmocka_unit_test(test_encode_rejections),
        cmocka_unit_test(test_text_rejections),
    };
    return cmocka_run_group_tests_name("handoff", tests, NULL, NULL);
}
