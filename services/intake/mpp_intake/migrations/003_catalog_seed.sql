-- Seed of the service catalog (version 1 of each service) and the pickup points
-- of Dinas Kependudukan dan Pencatatan Sipil (Disdukcapil) Kabupaten Kediri.
--
-- FORMAT: tests/unit/test_catalog_seed.py reads this file without a database, so
-- keep it regular:
--   * one INSERT per row: `INSERT INTO <table> (<columns>)` at the start of a
--     line, then `VALUES (...)` and `);`; no multi-row VALUES, no DO blocks;
--   * values are literals only: 'text' (a quote doubled as ''), integers,
--     true/false, '<json>'::jsonb, and text arrays written '{A,B,C}'::text[]
--     (elements are bare codes: no spaces, commas, quotes or braces);
--   * `--` comments may follow a value on its line.
-- No BEGIN/COMMIT: the migration runner applies each file in one transaction.
--
-- Fees: population documents are free by law (UU 23/2006 as amended by
-- UU 24/2013, Pasal 79A), so fee_idr is 0 everywhere.
-- SLA: the six services Kediri settles in one day ("Sahaja Lekat": pindah datang,
-- pindah keluar, akta kelahiran, akta kematian, KK, KTP-el) promise 1 working
-- day, meaning ready by the close of the next working day at the latest.
--
-- Kecamatan codes of Kabupaten Kediri (Kemendagri, province 35, regency 06; the
-- first six digits of a resident's NIK):
--   350601 Semen        350610 Gurah        350619 Kandangan
--   350602 Mojo         350611 Pagu         350620 Tarokan
--   350603 Kras         350612 Gampengrejo  350621 Kunjang
--   350604 Ngadiluwih   350613 Grogol       350622 Banyakan
--   350605 Kandat       350614 Papar        350623 Ringinrejo
--   350606 Wates        350615 Purwoasri    350624 Kayen Kidul
--   350607 Ngancar      350616 Plemahan     350625 Ngasem
--   350608 Puncu        350617 Pare         350626 Badas
--   350609 Plosoklaten  350618 Kepung
-- Every kecamatan is served (serves_regions) by exactly one pickup point, the one
-- taken as nearest; DUKCAPIL serves none (the MPP is the regency-level default).
-- The street addresses are indicative and must be checked by the front office
-- before go-live; correct them in a later migration, not here.
--
-- Opening hours (service desks, local time WIB): MPP Mon-Thu 08:00-15:00,
-- Fri 08:00-11:00, Sat 08:00-12:00; Dinas Dukcapil Mon-Thu 08:00-15:00,
-- Fri 08:00-11:00; kecamatan desks Mon-Thu 08:00-14:00, Fri 08:00-11:00.


-- Pickup points ---------------------------------------------------------------

INSERT INTO pickup_points (code, name, kind, region_code, address, opening_hours, daily_capacity, serves_regions)
VALUES (
    'MPP',
    'Mal Pelayanan Publik Kabupaten Kediri',
    'mpp',
    '3506',
    'Mal Pelayanan Publik Kabupaten Kediri, Kawasan Simpang Lima Gumul, Desa Tugurejo, Kecamatan Ngasem, Kabupaten Kediri',
    '{"mon": ["08:00", "15:00"], "tue": ["08:00", "15:00"], "wed": ["08:00", "15:00"], "thu": ["08:00", "15:00"], "fri": ["08:00", "11:00"], "sat": ["08:00", "12:00"], "sun": null}'::jsonb,
    300,
    '{350625,350612,350611,350624,350610}'::text[]  -- Ngasem, Gampengrejo, Pagu, Kayen Kidul, Gurah
);

INSERT INTO pickup_points (code, name, kind, region_code, address, opening_hours, daily_capacity, serves_regions)
VALUES (
    'DUKCAPIL',
    'Dinas Kependudukan dan Pencatatan Sipil Kabupaten Kediri',
    'dukcapil',
    '3506',
    'Kantor Dinas Kependudukan dan Pencatatan Sipil Kabupaten Kediri, Jl. Pamenang, Kecamatan Ngasem, Kabupaten Kediri',
    '{"mon": ["08:00", "15:00"], "tue": ["08:00", "15:00"], "wed": ["08:00", "15:00"], "thu": ["08:00", "15:00"], "fri": ["08:00", "11:00"], "sat": null, "sun": null}'::jsonb,
    200,
    '{}'::text[]  -- regency-wide office; nearest point of no kecamatan
);

INSERT INTO pickup_points (code, name, kind, region_code, address, opening_hours, daily_capacity, serves_regions)
VALUES (
    'KEC-BANYAKAN',
    'Kantor Kecamatan Banyakan',
    'kecamatan',
    '350622',
    'Kantor Kecamatan Banyakan, Jl. Raya Banyakan, Desa Banyakan, Kecamatan Banyakan, Kabupaten Kediri',
    '{"mon": ["08:00", "14:00"], "tue": ["08:00", "14:00"], "wed": ["08:00", "14:00"], "thu": ["08:00", "14:00"], "fri": ["08:00", "11:00"], "sat": null, "sun": null}'::jsonb,
    40,
    '{350622,350613,350620,350601,350602}'::text[]  -- Banyakan, Grogol, Tarokan, Semen, Mojo (west of the Brantas)
);

INSERT INTO pickup_points (code, name, kind, region_code, address, opening_hours, daily_capacity, serves_regions)
VALUES (
    'KEC-WATES',
    'Kantor Kecamatan Wates',
    'kecamatan',
    '350606',
    'Kantor Kecamatan Wates, Jl. Raya Wates, Desa Wates, Kecamatan Wates, Kabupaten Kediri',
    '{"mon": ["08:00", "14:00"], "tue": ["08:00", "14:00"], "wed": ["08:00", "14:00"], "thu": ["08:00", "14:00"], "fri": ["08:00", "11:00"], "sat": null, "sun": null}'::jsonb,
    60,
    '{350606,350607,350609}'::text[]  -- Wates, Ngancar, Plosoklaten
);

INSERT INTO pickup_points (code, name, kind, region_code, address, opening_hours, daily_capacity, serves_regions)
VALUES (
    'KEC-PAPAR',
    'Kantor Kecamatan Papar',
    'kecamatan',
    '350614',
    'Kantor Kecamatan Papar, Jl. Raya Papar, Desa Papar, Kecamatan Papar, Kabupaten Kediri',
    '{"mon": ["08:00", "14:00"], "tue": ["08:00", "14:00"], "wed": ["08:00", "14:00"], "thu": ["08:00", "14:00"], "fri": ["08:00", "11:00"], "sat": null, "sun": null}'::jsonb,
    60,
    '{350614,350615,350621}'::text[]  -- Papar, Purwoasri, Kunjang
);

INSERT INTO pickup_points (code, name, kind, region_code, address, opening_hours, daily_capacity, serves_regions)
VALUES (
    'KEC-PARE',
    'Kantor Kecamatan Pare',
    'kecamatan',
    '350617',
    'Kantor Kecamatan Pare, Jl. Pahlawan Kusuma Bangsa, Kelurahan Pare, Kecamatan Pare, Kabupaten Kediri',
    '{"mon": ["08:00", "14:00"], "tue": ["08:00", "14:00"], "wed": ["08:00", "14:00"], "thu": ["08:00", "14:00"], "fri": ["08:00", "11:00"], "sat": null, "sun": null}'::jsonb,
    80,
    '{350617,350626,350618,350619,350608,350616}'::text[]  -- Pare, Badas, Kepung, Kandangan, Puncu, Plemahan
);

INSERT INTO pickup_points (code, name, kind, region_code, address, opening_hours, daily_capacity, serves_regions)
VALUES (
    'KEC-NGADILUWIH',
    'Kantor Kecamatan Ngadiluwih',
    'kecamatan',
    '350604',
    'Kantor Kecamatan Ngadiluwih, Jl. Raya Ngadiluwih, Desa Ngadiluwih, Kecamatan Ngadiluwih, Kabupaten Kediri',
    '{"mon": ["08:00", "14:00"], "tue": ["08:00", "14:00"], "wed": ["08:00", "14:00"], "thu": ["08:00", "14:00"], "fri": ["08:00", "11:00"], "sat": null, "sun": null}'::jsonb,
    60,
    '{350604,350603,350623,350605}'::text[]  -- Ngadiluwih, Kras, Ringinrejo, Kandat
);


-- Services ----------------------------------------------------------------------

INSERT INTO catalog_services (code, current_version, active)
VALUES ('ktp_el', 1, true);

INSERT INTO catalog_services (code, current_version, active)
VALUES ('kk', 1, true);

INSERT INTO catalog_services (code, current_version, active)
VALUES ('akta_kelahiran', 1, true);

INSERT INTO catalog_services (code, current_version, active)
VALUES ('akta_kematian', 1, true);

INSERT INTO catalog_services (code, current_version, active)
VALUES ('pindah_keluar', 1, true);

INSERT INTO catalog_services (code, current_version, active)
VALUES ('pindah_datang', 1, true);

INSERT INTO catalog_services (code, current_version, active)
VALUES ('kia', 1, true);

INSERT INTO catalog_services (code, current_version, active)
VALUES ('ktp_el_rusak_hilang', 1, true);

INSERT INTO catalog_services (code, current_version, active)
VALUES ('perubahan_data', 1, true);

INSERT INTO catalog_services (code, current_version, active)
VALUES ('akta_perkawinan', 1, true);

INSERT INTO catalog_services (code, current_version, active)
VALUES ('akta_perceraian', 1, true);

INSERT INTO catalog_services (code, current_version, active)
VALUES ('pencatatan_pengangkatan_anak', 1, true);


-- Service versions (version 1) ---------------------------------------------------

INSERT INTO catalog_service_versions (code, version, name_id, name_en, opd, fee_idr, sla_amount, sla_unit, pickup_points, channels, requirements, created_by)
VALUES (
    'ktp_el',
    1,
    'KTP Elektronik (KTP-el)',
    'Electronic identity card (KTP-el)',
    'DISDUKCAPIL',
    0,
    1,
    'working_days',
    '{MPP,DUKCAPIL,KEC-BANYAKAN,KEC-WATES,KEC-PAPAR,KEC-PARE,KEC-NGADILUWIH}'::text[],
    '{mpp_desk,kecamatan_desk}'::text[],  -- fingerprints, iris and photo are recorded in person
    '[
      {"code": "kartu_keluarga", "name_id": "Kartu Keluarga", "name_en": "Family card (KK)", "mandatory": true},
      {"code": "bukti_usia_17", "name_id": "Akta kelahiran (telah berusia 17 tahun)", "name_en": "Birth certificate (aged 17 or over)", "mandatory": true,
       "any_of": [{"code": "buku_nikah_pemohon", "name_id": "Buku nikah / akta perkawinan (sudah atau pernah kawin)", "name_en": "Marriage book or certificate (married or previously married)"}]},
      {"code": "skpwni_pendatang", "name_id": "Surat Keterangan Pindah WNI (bagi penduduk pindahan)", "name_en": "Moving certificate (SKPWNI) for residents who moved in", "mandatory": false}
    ]'::jsonb,
    'seed'
);

INSERT INTO catalog_service_versions (code, version, name_id, name_en, opd, fee_idr, sla_amount, sla_unit, pickup_points, channels, requirements, created_by)
VALUES (
    'kk',
    1,
    'Kartu Keluarga (KK)',
    'Family card (KK)',
    'DISDUKCAPIL',
    0,
    1,
    'working_days',
    '{MPP,DUKCAPIL,KEC-BANYAKAN,KEC-WATES,KEC-PAPAR,KEC-PARE,KEC-NGADILUWIH}'::text[],
    '{mpp_desk,kecamatan_desk,desa,online}'::text[],
    '[
      {"code": "formulir_f101", "name_id": "Formulir biodata keluarga (F-1.01)", "name_en": "Family biodata form (F-1.01)", "mandatory": true},
      {"code": "ktp_el_kepala_keluarga", "name_id": "KTP-el kepala keluarga", "name_en": "KTP-el of the head of the family", "mandatory": true},
      {"code": "kk_lama", "name_id": "Kartu Keluarga lama (perubahan atau penambahan anggota)", "name_en": "Current family card (for changes or new members)", "mandatory": false},
      {"code": "buku_nikah", "name_id": "Buku nikah / akta perkawinan (membentuk keluarga baru)", "name_en": "Marriage book or certificate (new family)", "mandatory": false,
       "any_of": [{"code": "sptjm_pasangan", "name_id": "SPTJM kebenaran sebagai pasangan suami istri", "name_en": "Sworn statement of being husband and wife (SPTJM)"}]},
      {"code": "akta_cerai_atau_kematian", "name_id": "Akta perceraian atau akta kematian pasangan (perubahan status)", "name_en": "Divorce certificate or spouse death certificate (change of status)", "mandatory": false}
    ]'::jsonb,
    'seed'
);

INSERT INTO catalog_service_versions (code, version, name_id, name_en, opd, fee_idr, sla_amount, sla_unit, pickup_points, channels, requirements, created_by)
VALUES (
    'akta_kelahiran',
    1,
    'Akta Kelahiran',
    'Birth certificate',
    'DISDUKCAPIL',
    0,
    1,
    'working_days',
    '{MPP,DUKCAPIL,KEC-BANYAKAN,KEC-WATES,KEC-PAPAR,KEC-PARE,KEC-NGADILUWIH}'::text[],
    '{mpp_desk,kecamatan_desk,desa,online}'::text[],
    '[
      {"code": "surat_keterangan_lahir", "name_id": "Surat keterangan kelahiran dari rumah sakit, puskesmas, dokter atau bidan", "name_en": "Birth notification from the hospital, health centre, doctor or midwife", "mandatory": true,
       "any_of": [{"code": "sptjm_kelahiran", "name_id": "SPTJM kebenaran data kelahiran", "name_en": "Sworn statement on the birth data (SPTJM)"}]},
      {"code": "buku_nikah_orang_tua", "name_id": "Buku nikah / akta perkawinan orang tua", "name_en": "Parents'' marriage book or certificate", "mandatory": true,
       "any_of": [{"code": "sptjm_pasangan", "name_id": "SPTJM kebenaran sebagai pasangan suami istri", "name_en": "Sworn statement of being husband and wife (SPTJM)"}]},
      {"code": "kartu_keluarga", "name_id": "Kartu Keluarga", "name_en": "Family card (KK)", "mandatory": true},
      {"code": "ktp_el_orang_tua", "name_id": "KTP-el ayah dan ibu", "name_en": "KTP-el of the father and mother", "mandatory": true},
      {"code": "ktp_el_saksi", "name_id": "KTP-el dua orang saksi", "name_en": "KTP-el of two witnesses", "mandatory": false}
    ]'::jsonb,
    'seed'
);

INSERT INTO catalog_service_versions (code, version, name_id, name_en, opd, fee_idr, sla_amount, sla_unit, pickup_points, channels, requirements, created_by)
VALUES (
    'akta_kematian',
    1,
    'Akta Kematian',
    'Death certificate',
    'DISDUKCAPIL',
    0,
    1,
    'working_days',
    '{MPP,DUKCAPIL,KEC-BANYAKAN,KEC-WATES,KEC-PAPAR,KEC-PARE,KEC-NGADILUWIH}'::text[],
    '{mpp_desk,kecamatan_desk,desa,online}'::text[],
    '[
      {"code": "surat_keterangan_kematian", "name_id": "Surat keterangan kematian dari rumah sakit, puskesmas atau kepala desa/lurah", "name_en": "Death notification from the hospital, health centre or village head", "mandatory": true,
       "any_of": [{"code": "sptjm_kematian", "name_id": "SPTJM kebenaran data kematian", "name_en": "Sworn statement on the death data (SPTJM)"}]},
      {"code": "kartu_keluarga_almarhum", "name_id": "Kartu Keluarga almarhum/almarhumah", "name_en": "Family card of the deceased", "mandatory": true},
      {"code": "ktp_el_almarhum", "name_id": "KTP-el almarhum/almarhumah (bila ada)", "name_en": "KTP-el of the deceased (if any)", "mandatory": false},
      {"code": "ktp_el_pelapor", "name_id": "KTP-el pelapor", "name_en": "KTP-el of the person reporting", "mandatory": true}
    ]'::jsonb,
    'seed'
);

INSERT INTO catalog_service_versions (code, version, name_id, name_en, opd, fee_idr, sla_amount, sla_unit, pickup_points, channels, requirements, created_by)
VALUES (
    'pindah_keluar',
    1,
    'Surat Pindah Keluar (SKPWNI)',
    'Moving-out letter (SKPWNI)',
    'DISDUKCAPIL',
    0,
    1,
    'working_days',
    '{MPP,DUKCAPIL,KEC-BANYAKAN,KEC-WATES,KEC-PAPAR,KEC-PARE,KEC-NGADILUWIH}'::text[],
    '{mpp_desk,kecamatan_desk,online}'::text[],
    '[
      {"code": "kartu_keluarga", "name_id": "Kartu Keluarga", "name_en": "Family card (KK)", "mandatory": true},
      {"code": "ktp_el_pemohon", "name_id": "KTP-el pemohon", "name_en": "Applicant''s KTP-el", "mandatory": true},
      {"code": "formulir_f103", "name_id": "Formulir pindah (F-1.03) dengan alamat tujuan dan alasan pindah", "name_en": "Moving form (F-1.03) with destination address and reason", "mandatory": true},
      {"code": "surat_kuasa", "name_id": "Surat kuasa (bila diwakilkan)", "name_en": "Power of attorney (if represented)", "mandatory": false}
    ]'::jsonb,
    'seed'
);

INSERT INTO catalog_service_versions (code, version, name_id, name_en, opd, fee_idr, sla_amount, sla_unit, pickup_points, channels, requirements, created_by)
VALUES (
    'pindah_datang',
    1,
    'Surat Pindah Datang',
    'Moving-in letter',
    'DISDUKCAPIL',
    0,
    1,
    'working_days',
    '{MPP,DUKCAPIL,KEC-BANYAKAN,KEC-WATES,KEC-PAPAR,KEC-PARE,KEC-NGADILUWIH}'::text[],
    '{mpp_desk,kecamatan_desk,online}'::text[],
    '[
      {"code": "skpwni", "name_id": "Surat Keterangan Pindah WNI (SKPWNI) dari daerah asal", "name_en": "Moving certificate (SKPWNI) from the place of origin", "mandatory": true},
      {"code": "ktp_el_pemohon", "name_id": "KTP-el pemohon", "name_en": "Applicant''s KTP-el", "mandatory": true},
      {"code": "kk_tujuan", "name_id": "Kartu Keluarga yang dituju (bila menumpang KK yang ada)", "name_en": "Family card being joined (if joining an existing family card)", "mandatory": false},
      {"code": "surat_kuasa", "name_id": "Surat kuasa (bila diwakilkan)", "name_en": "Power of attorney (if represented)", "mandatory": false}
    ]'::jsonb,
    'seed'
);

INSERT INTO catalog_service_versions (code, version, name_id, name_en, opd, fee_idr, sla_amount, sla_unit, pickup_points, channels, requirements, created_by)
VALUES (
    'kia',
    1,
    'Kartu Identitas Anak (KIA)',
    'Child identity card (KIA)',
    'DISDUKCAPIL',
    0,
    3,
    'working_days',
    '{MPP,DUKCAPIL,KEC-BANYAKAN,KEC-WATES,KEC-PAPAR,KEC-PARE,KEC-NGADILUWIH}'::text[],
    '{mpp_desk,kecamatan_desk,desa,online}'::text[],
    '[
      {"code": "akta_kelahiran_anak", "name_id": "Kutipan akta kelahiran anak", "name_en": "Child''s birth certificate", "mandatory": true},
      {"code": "kartu_keluarga", "name_id": "Kartu Keluarga", "name_en": "Family card (KK)", "mandatory": true},
      {"code": "ktp_el_orang_tua", "name_id": "KTP-el ayah atau ibu", "name_en": "KTP-el of the father or mother", "mandatory": true},
      {"code": "pas_foto_anak", "name_id": "Pas foto berwarna 2x3 (anak usia 5 tahun ke atas)", "name_en": "Colour photo 2x3 cm (children aged 5 or over)", "mandatory": false}
    ]'::jsonb,
    'seed'
);

INSERT INTO catalog_service_versions (code, version, name_id, name_en, opd, fee_idr, sla_amount, sla_unit, pickup_points, channels, requirements, created_by)
VALUES (
    'ktp_el_rusak_hilang',
    1,
    'KTP-el Pengganti (Rusak atau Hilang)',
    'Replacement KTP-el (damaged or lost)',
    'DISDUKCAPIL',
    0,
    1,
    'working_days',
    '{MPP,DUKCAPIL,KEC-BANYAKAN,KEC-WATES,KEC-PAPAR,KEC-PARE,KEC-NGADILUWIH}'::text[],
    '{mpp_desk,kecamatan_desk,online}'::text[],
    '[
      {"code": "ktp_el_rusak", "name_id": "KTP-el yang rusak", "name_en": "The damaged KTP-el", "mandatory": true,
       "any_of": [{"code": "surat_kehilangan_polisi", "name_id": "Surat keterangan kehilangan dari Kepolisian", "name_en": "Police report of loss"}]},
      {"code": "kartu_keluarga", "name_id": "Kartu Keluarga", "name_en": "Family card (KK)", "mandatory": false}
    ]'::jsonb,
    'seed'
);

INSERT INTO catalog_service_versions (code, version, name_id, name_en, opd, fee_idr, sla_amount, sla_unit, pickup_points, channels, requirements, created_by)
VALUES (
    'perubahan_data',
    1,
    'Perubahan Biodata Penduduk',
    'Change of personal data',
    'DISDUKCAPIL',
    0,
    3,
    'working_days',
    '{MPP,DUKCAPIL,KEC-BANYAKAN,KEC-WATES,KEC-PAPAR,KEC-PARE,KEC-NGADILUWIH}'::text[],
    '{mpp_desk,kecamatan_desk}'::text[],
    '[
      {"code": "formulir_f101", "name_id": "Formulir biodata (F-1.01)", "name_en": "Biodata form (F-1.01)", "mandatory": true},
      {"code": "kartu_keluarga", "name_id": "Kartu Keluarga", "name_en": "Family card (KK)", "mandatory": true},
      {"code": "ktp_el_pemohon", "name_id": "KTP-el pemohon", "name_en": "Applicant''s KTP-el", "mandatory": true},
      {"code": "dokumen_pendukung", "name_id": "Dokumen otentik pendukung perubahan (ijazah, akta, surat keputusan)", "name_en": "Authentic document supporting the change (diploma, certificate, decree)", "mandatory": true,
       "any_of": [{"code": "surat_keterangan_instansi", "name_id": "Surat keterangan dari instansi yang berwenang", "name_en": "Statement from the competent authority"}]}
    ]'::jsonb,
    'seed'
);

INSERT INTO catalog_service_versions (code, version, name_id, name_en, opd, fee_idr, sla_amount, sla_unit, pickup_points, channels, requirements, created_by)
VALUES (
    'akta_perkawinan',
    1,
    'Akta Perkawinan (non-Muslim)',
    'Marriage certificate (non-Muslim)',
    'DISDUKCAPIL',
    0,
    3,
    'working_days',
    '{MPP,DUKCAPIL}'::text[],
    '{mpp_desk}'::text[],
    '[
      {"code": "surat_perkawinan_agama", "name_id": "Surat perkawinan / pemberkatan dari pemuka agama", "name_en": "Religious marriage certificate from the minister", "mandatory": true},
      {"code": "ktp_el_mempelai", "name_id": "KTP-el kedua mempelai", "name_en": "KTP-el of both spouses", "mandatory": true},
      {"code": "kartu_keluarga_mempelai", "name_id": "Kartu Keluarga kedua mempelai", "name_en": "Family cards of both spouses", "mandatory": true},
      {"code": "akta_kelahiran_mempelai", "name_id": "Kutipan akta kelahiran kedua mempelai", "name_en": "Birth certificates of both spouses", "mandatory": true},
      {"code": "pas_foto_berdampingan", "name_id": "Pas foto berdampingan 4x6", "name_en": "Side-by-side photo of the couple 4x6 cm", "mandatory": true},
      {"code": "ktp_el_saksi", "name_id": "KTP-el dua orang saksi", "name_en": "KTP-el of two witnesses", "mandatory": true}
    ]'::jsonb,
    'seed'
);

INSERT INTO catalog_service_versions (code, version, name_id, name_en, opd, fee_idr, sla_amount, sla_unit, pickup_points, channels, requirements, created_by)
VALUES (
    'akta_perceraian',
    1,
    'Akta Perceraian (non-Muslim)',
    'Divorce certificate (non-Muslim)',
    'DISDUKCAPIL',
    0,
    3,
    'working_days',
    '{MPP,DUKCAPIL}'::text[],
    '{mpp_desk}'::text[],
    '[
      {"code": "putusan_pengadilan", "name_id": "Salinan putusan Pengadilan Negeri yang berkekuatan hukum tetap", "name_en": "Copy of the final District Court judgment", "mandatory": true},
      {"code": "kutipan_akta_perkawinan", "name_id": "Kutipan akta perkawinan", "name_en": "Marriage certificate", "mandatory": true},
      {"code": "kartu_keluarga", "name_id": "Kartu Keluarga", "name_en": "Family card (KK)", "mandatory": true},
      {"code": "ktp_el_pemohon", "name_id": "KTP-el pemohon", "name_en": "Applicant''s KTP-el", "mandatory": true}
    ]'::jsonb,
    'seed'
);

INSERT INTO catalog_service_versions (code, version, name_id, name_en, opd, fee_idr, sla_amount, sla_unit, pickup_points, channels, requirements, created_by)
VALUES (
    'pencatatan_pengangkatan_anak',
    1,
    'Pencatatan Pengangkatan Anak',
    'Registration of a child adoption',
    'DISDUKCAPIL',
    0,
    7,
    'working_days',
    '{MPP,DUKCAPIL}'::text[],
    '{mpp_desk}'::text[],
    '[
      {"code": "penetapan_pengadilan", "name_id": "Salinan penetapan pengadilan tentang pengangkatan anak", "name_en": "Copy of the court order on the adoption", "mandatory": true},
      {"code": "akta_kelahiran_anak", "name_id": "Kutipan akta kelahiran anak", "name_en": "Child''s birth certificate", "mandatory": true},
      {"code": "kartu_keluarga_orang_tua_angkat", "name_id": "Kartu Keluarga orang tua angkat", "name_en": "Family card of the adoptive parents", "mandatory": true},
      {"code": "ktp_el_orang_tua_angkat", "name_id": "KTP-el orang tua angkat", "name_en": "KTP-el of the adoptive parents", "mandatory": true}
    ]'::jsonb,
    'seed'
);
