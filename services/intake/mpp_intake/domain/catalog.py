"""The services an application can be made for (a fixed list until the
managed catalog arrives)."""

SERVICES: dict[str, tuple[str, str]] = {
    "ktp_el": ("KTP Elektronik", "Electronic identity card"),
    "kk": ("Kartu Keluarga", "Family card"),
    "akta_kelahiran": ("Akta Kelahiran", "Birth certificate"),
    "akta_kematian": ("Akta Kematian", "Death certificate"),
    "pindah_keluar": ("Surat Pindah Keluar", "Moving-out letter"),
    "pindah_datang": ("Surat Pindah Datang", "Moving-in letter"),
}

PICKUP_POINTS = {
    "MPP",
    "DUKCAPIL",
    "KEC-BANYAKAN",
    "KEC-WATES",
    "KEC-PAPAR",
    "KEC-PARE",
    "KEC-NGADILUWIH",
}
