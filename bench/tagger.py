"""Tagger throughput on one core: synthetic 500-word articles, tagged in one process.

Usage::

    .venv/bin/python bench/tagger.py                   # 3000 articles, the default mix
    .venv/bin/python bench/tagger.py --articles 10000 --seed 7
    .venv/bin/python bench/tagger.py --profile         # cProfile: the 25 costliest functions
    .venv/bin/python bench/tagger.py --rules my.yaml   # built-in rules plus a topic file

The articles are generated from small word lists (no data files in the repository): mostly general
news (economy, politics, sport) in the monitor's languages, about 10% about film cooperation, and a
few general stories with a passing mention of a film. Each article carries its language as the
source's declared language, as feeds do. Building the tagger, loading the language model and
compiling the lexicons happen before the clock starts (a long-running monitor pays them once).
Time is CPU time of this process; the best of ``--repeat`` runs is reported, with the median
(other processes on the machine only ever slow a run down). The target is 2,000 articles/s.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from monitor.tag import TagInput, build_tagger

WORDS_PER_ARTICLE = 500
FILM_SHARE = 0.10  # stories about film cooperation
MENTION_SHARE = 0.05  # general stories that name a film or a festival in passing


@dataclass(frozen=True)
class Vocabulary:
    """Words of one language: general news, film, cooperation, country names."""

    general: tuple[str, ...]
    film: tuple[str, ...]
    cooperation: tuple[str, ...]
    countries: tuple[str, ...]


def _v(general: str, film: str, cooperation: str, countries: str) -> Vocabulary:
    def split(text: str) -> tuple[str, ...]:
        return tuple(w.strip() for w in text.split(",") if w.strip())

    return Vocabulary(split(general), split(film), split(cooperation), split(countries))


# (language, share of the stream, vocabulary). uz-Cyrl is Uzbek in Cyrillic script.
LANGUAGES: tuple[tuple[str, float, Vocabulary], ...] = (
    ("en", 0.20, _v(
        "the, of, and, in, to, on, said, government, minister, economy, percent, growth, year, "
        "new, company, market, price, oil, gas, bank, transport, road, city, president, meeting, "
        "parliament, law, budget, exports, imports, water, energy, weather, football, team, match, "
        "season, school, hospital, report, week, people, region, capital, development, plan, "
        "million, billion, increase, data, officials, according, announced",
        "film, cinema, movie, documentary, festival, director, screening, producer, actor, "
        "premiere",
        "cooperation, agreement, co-production, memorandum, partnership, joint project, bilateral",
        "Azerbaijan, Turkey, Kazakhstan, Uzbekistan, Georgia, Italy, Pakistan, Iran"),
    ),
    ("ru", 0.20, _v(
        "в, на, и, по, с, заявил, правительство, министр, экономика, процент, рост, год, новый, "
        "компания, рынок, цена, нефть, газ, банк, транспорт, дорога, город, президент, встреча, "
        "парламент, закон, бюджет, экспорт, импорт, вода, энергетика, погода, футбол, команда, "
        "матч, сезон, школа, больница, отчет, неделя, люди, регион, столица, развитие, план, "
        "миллион, миллиард, увеличение, данные, сообщили",
        "фильм, кино, кинофестиваль, режиссер, показ, продюсер, актер, премьера, кинематограф, "
        "сериал",
        "сотрудничество, соглашение, совместное производство, меморандум, партнерство, "
        "совместный проект, двустороннее",
        "Азербайджан, Турция, Казахстан, Узбекистан, Грузия, Италия, Пакистан, Иран"),
    ),
    ("az", 0.10, _v(
        "və, ilə, bildirib, hökumət, nazir, iqtisadiyyat, faiz, artım, il, yeni, layihə, şirkət, "
        "bazar, qiymət, neft, qaz, bank, nəqliyyat, yol, şəhər, prezident, görüş, parlament, "
        "qanun, büdcə, ixrac, idxal, su, enerji, hava, futbol, komanda, oyun, mövsüm, məktəb, "
        "xəstəxana, hesabat, həftə, insanlar, region, paytaxt, inkişaf, plan, milyon, milyard",
        "film, kino, festival, rejissor, nümayiş, prodüser, aktyor, premyera, serial, "
        "kinematoqrafiya",
        "əməkdaşlıq, saziş, birgə istehsal, memorandum, tərəfdaşlıq, birgə layihə, ikitərəfli",
        "Azərbaycan, Türkiyə, Qazaxıstan, Özbəkistan, Gürcüstan, İtaliya, Pakistan, İran"),
    ),
    ("tr", 0.10, _v(
        "ve, ile, bir, bu, için, açıkladı, hükümet, bakan, ekonomi, yüzde, büyüme, yıl, yeni, "
        "şirket, piyasa, fiyat, petrol, doğalgaz, banka, ulaşım, yol, şehir, cumhurbaşkanı, "
        "toplantı, meclis, kanun, bütçe, ihracat, ithalat, su, enerji, hava, futbol, takım, maç, "
        "sezon, okul, hastane, rapor, hafta, insanlar, bölge, başkent, kalkınma, plan, milyon",
        "film, sinema, festival, yönetmen, gösterim, yapımcı, oyuncu, gala, dizi, belgesel",
        "işbirliği, anlaşma, ortak yapım, mutabakat, ortaklık, ortak proje, ikili",
        "Azerbaycan, Türkiye, Kazakistan, Özbekistan, Gürcistan, İtalya, Pakistan, İran"),
    ),
    ("uz", 0.06, _v(
        "va, bilan, ma'lum qildi, hukumat, vazir, iqtisodiyot, foiz, o'sish, yil, yangi, "
        "kompaniya, bozor, narx, neft, gaz, bank, transport, yo'l, shahar, prezident, uchrashuv, "
        "parlament, qonun, byudjet, eksport, import, suv, energetika, futbol, jamoa, o'yin, "
        "mavsum, maktab, shifoxona, hisobot, hafta, odamlar, viloyat, poytaxt, rivojlanish, "
        "reja, million, milliard",
        "film, kino, kinofestival, rejissyor, namoyish, prodyuser, aktyor, premyera, serial, "
        "hujjatli film",
        "hamkorlik, kelishuv, qo'shma film, memorandum, sheriklik, qo'shma loyiha, "
        "ikki tomonlama",
        "Ozarbayjon, Turkiya, Qozog'iston, O'zbekiston, Gruziya, Italiya, Pokiston, Eron"),
    ),
    ("uz-Cyrl", 0.02, _v(
        "ва, билан, маълум қилди, ҳукумат, вазир, иқтисодиёт, фоиз, ўсиш, йил, янги, "
        "компания, бозор, нарх, нефть, газ, банк, транспорт, йўл, шаҳар, президент, учрашув, "
        "парламент, қонун, бюджет, экспорт, импорт, сув, энергетика, футбол, жамоа, ўйин, "
        "мавсум, мактаб, шифохона, ҳисобот, ҳафта, одамлар, вилоят, пойтахт, ривожланиш, "
        "режа, миллион, миллиард",
        "фильм, кино, кинофестиваль, режиссёр, намойиш, продюсер, актёр, премьера, сериал, "
        "ҳужжатли фильм",
        "ҳамкорлик, келишув, қўшма фильм, меморандум, шериклик, қўшма лойиҳа, икки томонлама",
        "Озарбайжон, Туркия, Қозоғистон, Ўзбекистон, Грузия, Италия, Покистон, Эрон"),
    ),
    ("kk", 0.06, _v(
        "және, мен, мәлімдеді, үкімет, министр, экономика, пайыз, өсім, жыл, жаңа, компания, "
        "нарық, баға, мұнай, газ, банк, көлік, жол, қала, президент, кездесу, парламент, заң, "
        "бюджет, экспорт, импорт, су, энергетика, футбол, команда, ойын, маусым, мектеп, "
        "аурухана, есеп, апта, адамдар, өңір, елорда, даму, жоспар, миллион, миллиард",
        "фильм, кино, кинофестиваль, режиссер, көрсетілім, продюсер, актер, премьера, сериал, "
        "деректі фильм",
        "ынтымақтастық, келісім, бірлескен өндіріс, меморандум, серіктестік, бірлескен жоба, "
        "екіжақты",
        "Әзербайжан, Түркия, Қазақстан, Өзбекстан, Грузия, Италия, Пәкістан, Иран"),
    ),
    ("ka", 0.06, _v(
        "და, რომ, განაცხადა, მთავრობა, მინისტრი, ეკონომიკა, პროცენტი, ზრდა, წელი, ახალი, "
        "კომპანია, ბაზარი, ფასი, ნავთობი, გაზი, ბანკი, ტრანსპორტი, გზა, ქალაქი, პრეზიდენტი, "
        "შეხვედრა, პარლამენტი, კანონი, ბიუჯეტი, ექსპორტი, იმპორტი, წყალი, ენერგეტიკა, ამინდი, "
        "ფეხბურთი, გუნდი, მატჩი, სეზონი, სკოლა, საავადმყოფო, ანგარიში, კვირა, ხალხი, რეგიონი, "
        "დედაქალაქი, განვითარება, გეგმა, მილიონი, მილიარდი",
        "ფილმი, კინო, კინოფესტივალი, რეჟისორი, ჩვენება, პროდიუსერი, მსახიობი, პრემიერა, "
        "სერიალი, დოკუმენტური",
        "თანამშრომლობა, შეთანხმება, ერთობლივი წარმოება, მემორანდუმი, პარტნიორობა, "
        "ერთობლივი პროექტი, ორმხრივი",
        "აზერბაიჯანი, თურქეთი, ყაზახეთი, უზბეკეთი, საქართველო, იტალია, პაკისტანი, ირანი"),
    ),
    ("it", 0.08, _v(
        "il, la, di, e, che, per, ha dichiarato, governo, ministro, economia, per cento, crescita, "
        "anno, nuovo, azienda, mercato, prezzo, petrolio, gas, banca, trasporti, strada, città, "
        "presidente, incontro, parlamento, legge, bilancio, esportazioni, importazioni, acqua, "
        "energia, meteo, calcio, squadra, partita, stagione, scuola, ospedale, rapporto, "
        "settimana, persone, regione, capitale, sviluppo, piano, milioni, miliardi",
        "film, cinema, festival, regista, proiezione, produttore, attore, anteprima, serie, "
        "documentario",
        "cooperazione, accordo, coproduzione, memorandum, partenariato, progetto congiunto, "
        "bilaterale",
        "Azerbaigian, Turchia, Kazakistan, Uzbekistan, Georgia, Italia, Pakistan, Iran"),
    ),
    ("ur", 0.06, _v(
        "اور, کے, میں, سے, ہے, کہا, حکومت, وزیر, معیشت, فیصد, ترقی, سال, نیا, کمپنی, مارکیٹ, "
        "قیمت, تیل, گیس, بینک, ٹرانسپورٹ, سڑک, شہر, صدر, ملاقات, پارلیمنٹ, قانون, بجٹ, "
        "برآمدات, درآمدات, پانی, توانائی, موسم, کرکٹ, ٹیم, میچ, سکول, ہسپتال, رپورٹ, ہفتہ, "
        "لوگ, علاقہ, دارالحکومت, ملین, ارب",
        "فلم, سینما, فیسٹیول, ہدایت کار, نمائش, پروڈیوسر, اداکار, پریمیئر, ڈرامہ, دستاویزی",
        "تعاون, معاہدہ, مشترکہ پروڈکشن, مفاہمت کی یادداشت, شراکت داری, مشترکہ منصوبہ, دوطرفہ",
        "آذربائیجان, ترکی, قازقستان, ازبکستان, جارجیا, اٹلی, پاکستان, ایران"),
    ),
    ("fa", 0.03, _v(
        "و, در, به, از, است, گفت, دولت, وزیر, اقتصاد, درصد, رشد, سال, جدید, پروژه, شرکت, "
        "بازار, قیمت, نفت, گاز, بانک, جاده, شهر, رئیس جمهور, دیدار, مجلس, قانون, بودجه, "
        "صادرات, واردات, آب, انرژی, هوا, فوتبال, تیم, مسابقه, فصل, مدرسه, بیمارستان, گزارش, "
        "هفته, مردم, منطقه, پایتخت, توسعه, برنامه, میلیون, میلیارد",
        "فیلم, سینما, جشنواره, کارگردان, نمایش, تهیه‌کننده, بازیگر, اکران, سریال, مستند",
        "همکاری, توافقنامه, تولید مشترک, تفاهم‌نامه, مشارکت, پروژه مشترک, دوجانبه",
        "آذربایجان, ترکیه, قزاقستان, ازبکستان, گرجستان, ایتالیا, پاکستان, ایران"),
    ),
    ("ar", 0.03, _v(
        "و, في, من, على, قال, الحكومة, الوزير, الاقتصاد, بالمئة, النمو, العام, جديد, مشروع, "
        "شركة, السوق, السعر, النفط, الغاز, البنك, النقل, الطريق, المدينة, الرئيس, اجتماع, "
        "البرلمان, القانون, الميزانية, الصادرات, الواردات, المياه, الطاقة, الطقس, الفريق, "
        "المباراة, الموسم, المدرسة, المستشفى, تقرير, الأسبوع, الناس, المنطقة, العاصمة, "
        "التنمية, خطة, مليون, مليار",
        "فيلم, السينما, مهرجان, المخرج, عرض, المنتج, الممثل, العرض الأول, مسلسل, وثائقي",
        "التعاون, اتفاقية, الإنتاج المشترك, مذكرة تفاهم, شراكة, مشروع مشترك, الثنائي",
        "أذربيجان, تركيا, كازاخستان, أوزبكستان, جورجيا, إيطاليا, باكستان, إيران"),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Article:
    language: str  # as declared by the source ("uz" for both Uzbek scripts)
    label: str  # the mix row: language (with script) and kind
    doc: TagInput


def generate(count: int, seed: int) -> list[Article]:
    """``count`` articles drawn from the mix, reproducibly."""
    rng = random.Random(seed)
    shares = [share for _, share, _ in LANGUAGES]
    out: list[Article] = []
    for _ in range(count):
        name, _, vocabulary = rng.choices(LANGUAGES, weights=shares)[0]
        roll = rng.random()
        kind = (
            "film"
            if roll < FILM_SHARE
            else "mention"
            if roll < FILM_SHARE + MENTION_SHARE
            else "news"
        )
        title, body = _article(rng, vocabulary, kind)
        language = name.split("-")[0]
        out.append(Article(language, f"{name} {kind}", TagInput(title, body, language=language)))
    return out


def _article(rng: random.Random, v: Vocabulary, kind: str) -> tuple[str, str]:
    if kind == "film":
        title_words = [rng.choice(v.countries), rng.choice(v.countries), rng.choice(v.film)]
        title_words += [rng.choice(v.cooperation), *rng.choices(v.general, k=3)]
    else:
        title_words = [rng.choice(v.countries), *rng.choices(v.general, k=6)]
    paragraphs: list[str] = []
    sentences: list[str] = []
    words = 0
    while words < WORDS_PER_ARTICLE:
        sentence = rng.choices(v.general, k=rng.randint(8, 20))
        if rng.random() < 0.3:
            sentence[rng.randrange(len(sentence))] = rng.choice(v.countries)
        if kind == "film" and rng.random() < 0.3:
            sentence[rng.randrange(len(sentence))] = rng.choice(v.film)
            sentence[rng.randrange(len(sentence))] = rng.choice(v.cooperation)
        if kind == "mention" and words == 0:
            sentence[rng.randrange(len(sentence))] = rng.choice(v.film)
        words += len(sentence)
        sentences.append(" ".join(sentence).capitalize() + ".")
        if len(sentences) >= rng.randint(3, 6):
            paragraphs.append(" ".join(sentences))
            sentences = []
    paragraphs.append(" ".join(sentences))
    return " ".join(title_words).capitalize(), "\n\n".join(p for p in paragraphs if p)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=3000, help="how many (default 3000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best counts (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the generator")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    parser.add_argument("--rules", type=Path, nargs="*", default=[], help="extra topic files")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    tagger = build_tagger(args.rules)
    built = time.perf_counter() - started
    articles = generate(args.articles, args.seed)
    started = time.perf_counter()
    # One article of each kind: loads the language model and compiles every lexicon in use.
    for article in {a.label: a for a in articles}.values():
        tagger.tag(article.doc)
    warm = time.perf_counter() - started

    profiler = cProfile.Profile() if args.profile else None
    tagged: Counter[str] = Counter()
    times: list[float] = []
    for _ in range(1 if profiler else max(1, args.repeat)):
        tagged.clear()
        started = time.process_time()  # CPU time: what one core spends, whatever else runs
        if profiler:
            profiler.enable()
        for article in articles:
            if tagger.tag(article.doc).tagged:
                tagged[article.label] += 1
        if profiler:
            profiler.disable()
        times.append(time.process_time() - started)

    mix = Counter(a.label for a in articles)
    best, median = min(times), sorted(times)[len(times) // 2]
    print(f"tagger built in {built:.2f} s; warm-up (model load, regex compilation) {warm:.2f} s")
    print(f"languages with rules: {', '.join(tagger.languages)}")
    print(f"{len(articles)} articles of ~{WORDS_PER_ARTICLE} words, best of {len(times)} runs: "
          f"{best:.2f} s of CPU, {len(articles) / best:,.0f} articles/s on one core "
          f"(median {len(articles) / median:,.0f}/s)")  # fmt: skip
    print("mix (articles, tagged):")
    for label in sorted(mix):
        print(f"  {label:16} {mix[label]:6} {tagged[label]:6}")
    if profiler:
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
