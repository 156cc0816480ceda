"""Embedded reference data for the generator: names, cities, streets and phone plans of a few countries.

A small, curated set beats Faker here: it is deterministic across library versions, costs nothing at
import, and every value is chosen so that phone numbers are valid for libphonenumber, postal codes
belong to their city and VAT numbers carry the country's real check digits.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class City:
    name: str
    postal: tuple[int, int] | tuple[str, ...]  # numeric range, or GB outward codes / NL 4-digit range
    area: str  # phone area code without the trunk prefix (IT keeps its leading 0)
    subscriber_digits: int
    state: str | None = None  # US state code
    leads: str = "2345678"  # first subscriber digits that libphonenumber accepts as this city's fixed lines


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name: str  # English, as Salesforce orgs usually hold BillingCountry
    local_name: str
    calling_code: str
    currency: str
    language: str
    tld: str
    legal_forms: tuple[str, ...]
    cities: tuple[City, ...]
    streets: tuple[str, ...]
    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]
    mobile_prefixes: tuple[str, ...]  # ranges libphonenumber accepts as mobile for the country
    mobile_digits: int  # subscriber digits after the mobile prefix
    salutations: tuple[str, str]  # local (female, male) as the ERP stores them
    descriptors: tuple[str, ...]  # business words in the local language
    info_mailbox: str


ES = Country(
    "ES", "Spain", "España", "34", "EUR", "es", "es", ("S.L.", "S.A."),
    (City("Madrid", (28001, 28080), "91", 7), City("Barcelona", (8001, 8042), "93", 7),
     City("Valencia", (46001, 46026), "96", 7), City("Sevilla", (41001, 41020), "95", 7),
     City("Bilbao", (48001, 48015), "94", 7), City("Zaragoza", (50001, 50021), "976", 6),
     City("Málaga", (29001, 29018), "952", 6)),
    ("Calle de Alcalá", "Calle Mayor", "Gran Vía", "Paseo de la Castellana", "Calle de Serrano",
     "Avenida Diagonal", "Calle de Colón", "Calle del Prado", "Avenida de América", "Calle de Toledo",
     "Rambla de Catalunya", "Calle San Vicente"),
    ("María", "Lucía", "Carmen", "Ana", "Laura", "Marta", "Elena", "Paula", "Sofía", "Isabel", "Cristina", "Nuria"),
    ("José", "Antonio", "Manuel", "Javier", "David", "Daniel", "Carlos", "Miguel", "Álvaro", "Pablo", "Sergio",
     "Jorge"),
    ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín",
     "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Navarro", "Torres"),
    ("60", "61", "62", "63", "64", "65", "66", "67", "68", "69", "71", "72", "73", "74"), 7, ("Sra.", "Sr."),
    ("Soluciones", "Distribuciones", "Logística", "Ingeniería", "Suministros", "Servicios", "Tecnología",
     "Construcciones"),
    "info",
)

DE = Country(
    "DE", "Germany", "Deutschland", "49", "EUR", "de", "de", ("GmbH", "AG", "GmbH & Co. KG"),
    (City("Berlin", (10115, 14199), "30", 8), City("Hamburg", (20095, 22769), "40", 8),
     City("München", (80331, 81929), "89", 8), City("Köln", (50667, 51149), "221", 7),
     City("Frankfurt am Main", (60306, 60599), "69", 8), City("Stuttgart", (70173, 70629), "711", 7),
     City("Düsseldorf", (40210, 40629), "211", 7)),
    ("Hauptstraße", "Bahnhofstraße", "Gartenstraße", "Schillerstraße", "Goethestraße", "Lindenallee",
     "Industriestraße", "Am Markt", "Friedrichstraße", "Kirchweg", "Mühlenweg", "Königsallee"),
    ("Anna", "Julia", "Katharina", "Laura", "Lena", "Sarah", "Sabine", "Claudia", "Petra", "Monika", "Jana", "Ute"),
    ("Thomas", "Michael", "Andreas", "Stefan", "Markus", "Christian", "Jürgen", "Klaus", "Frank", "Tobias",
     "Jan", "Lukas"),
    ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
     "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann"),
    ("151", "160", "170", "171", "176"), 8, ("Frau", "Herr"),
    ("Logistik", "Maschinenbau", "Systeme", "Handel", "Technik", "Dienstleistungen", "Elektronik", "Bau"),
    "info",
)

FR = Country(
    "FR", "France", "France", "33", "EUR", "fr", "fr", ("SARL", "SAS", "SA"),
    (City("Paris", (75001, 75020), "1", 8), City("Lyon", (69001, 69009), "4", 8),
     City("Marseille", (13001, 13016), "4", 8), City("Toulouse", (31000, 31500), "5", 8),
     City("Lille", (59000, 59800), "3", 8), City("Bordeaux", (33000, 33800), "5", 8),
     City("Nantes", (44000, 44300), "2", 8, leads="234578")),
    ("rue de la Paix", "avenue des Champs-Élysées", "boulevard Haussmann", "rue de Rivoli", "rue Victor Hugo",
     "avenue de la République", "rue du Faubourg Saint-Honoré", "place Bellecour", "rue Nationale",
     "boulevard Saint-Michel", "rue Gambetta", "quai de la Fosse"),
    ("Marie", "Camille", "Léa", "Chloé", "Manon", "Julie", "Sophie", "Claire", "Isabelle", "Nathalie", "Émilie",
     "Céline"),
    ("Jean", "Pierre", "Nicolas", "Julien", "Thomas", "François", "Laurent", "Philippe", "Antoine", "Mathieu",
     "Olivier", "Sébastien"),
    ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
     "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier"),
    ("60", "61", "62", "64", "65", "66", "67", "68", "73", "74", "75", "76", "77", "78"), 7, ("Mme", "M."),
    ("Solutions", "Industries", "Distribution", "Services", "Technologies", "Conseil", "Logistique", "Ingénierie"),
    "contact",
)

GB = Country(
    "GB", "United Kingdom", "United Kingdom", "44", "GBP", "en", "co.uk", ("Ltd", "PLC", "LLP"),
    (City("London", ("EC1A", "EC2M", "WC2N", "SW1A", "N1", "SE1", "W1D"), "20", 8, leads="3478"),
     City("Manchester", ("M1", "M2", "M3", "M4"), "161", 7),
     City("Birmingham", ("B1", "B2", "B3", "B5"), "121", 7, leads="234567"),
     City("Leeds", ("LS1", "LS2", "LS6"), "113", 7, leads="23458"),
     City("Glasgow", ("G1", "G2", "G3"), "141", 7), City("Bristol", ("BS1", "BS2", "BS8"), "117", 7, leads="234"),
     City("Edinburgh", ("EH1", "EH2", "EH3"), "131", 7)),
    ("High Street", "Station Road", "Church Lane", "Victoria Road", "Park Road", "King Street", "Queen Street",
     "Mill Lane", "London Road", "Market Street", "George Street", "Castle Street"),
    ("Olivia", "Emily", "Sophie", "Charlotte", "Jessica", "Hannah", "Lucy", "Amelia", "Grace", "Ella", "Chloe",
     "Rachel"),
    ("Oliver", "James", "Jack", "Harry", "George", "William", "Thomas", "Daniel", "Samuel", "Joseph", "Matthew",
     "Edward"),
    ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
     "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke"),
    ("7400", "7450", "7510", "7530", "7710", "7750", "7800", "7840", "7900", "7950"), 6, ("Ms", "Mr"),
    ("Solutions", "Logistics", "Engineering", "Supplies", "Services", "Systems", "Trading", "Holdings"),
    "enquiries",
)

US = Country(
    "US", "United States", "United States", "1", "USD", "en", "com", ("Inc.", "LLC", "Corp."),
    (City("New York", (10001, 10282), "212", 7, "NY"), City("San Francisco", (94102, 94134), "415", 7, "CA"),
     City("Chicago", (60601, 60661), "312", 7, "IL"), City("Austin", (78701, 78759), "512", 7, "TX"),
     City("Boston", (2108, 2137), "617", 7, "MA"), City("Seattle", (98101, 98199), "206", 7, "WA"),
     City("Denver", (80202, 80239), "303", 7, "CO")),
    ("Main Street", "Broadway", "Market Street", "Oak Avenue", "Maple Drive", "Park Avenue", "Washington Street",
     "Lake Shore Drive", "Congress Avenue", "Pine Street", "Elm Street", "Madison Avenue"),
    ("Jennifer", "Jessica", "Ashley", "Emily", "Sarah", "Amanda", "Megan", "Lauren", "Rachel", "Nicole",
     "Stephanie", "Elizabeth"),
    ("Michael", "Christopher", "Matthew", "Joshua", "David", "James", "Daniel", "Robert", "John", "Joseph",
     "Andrew", "Ryan"),
    ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas",
     "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker"),
    ("",), 0, ("Ms.", "Mr."),
    ("Solutions", "Logistics", "Industries", "Systems", "Supply", "Technologies", "Partners", "Group"),
    "info",
)

IT = Country(
    "IT", "Italy", "Italia", "39", "EUR", "it", "it", ("S.r.l.", "S.p.A."),
    (City("Roma", (118, 199), "06", 8), City("Milano", (20121, 20162), "02", 8),
     City("Torino", (10121, 10156), "011", 7), City("Napoli", (80121, 80147), "081", 7),
     City("Bologna", (40121, 40141), "051", 7), City("Firenze", (50121, 50145), "055", 7),
     City("Genova", (16121, 16167), "010", 7)),
    ("Via Roma", "Via Garibaldi", "Corso Italia", "Via Mazzini", "Via Dante", "Corso Vittorio Emanuele II",
     "Via Verdi", "Piazza del Duomo", "Via Cavour", "Via Nazionale", "Viale Europa", "Via XX Settembre"),
    ("Giulia", "Francesca", "Chiara", "Sara", "Valentina", "Federica", "Alessia", "Martina", "Elena", "Silvia",
     "Paola", "Laura"),
    ("Marco", "Alessandro", "Luca", "Giuseppe", "Andrea", "Francesco", "Matteo", "Lorenzo", "Davide", "Stefano",
     "Paolo", "Roberto"),
    ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno",
     "Gallo", "Conti", "De Luca", "Costa", "Giordano", "Mancini", "Rizzo", "Lombardi", "Moretti"),
    ("320", "328", "333", "340", "347", "349", "366", "380", "392"), 7, ("Sig.ra", "Sig."),
    ("Soluzioni", "Logistica", "Impianti", "Forniture", "Servizi", "Tecnologie", "Costruzioni", "Meccanica"),
    "info",
)

NL = Country(
    "NL", "Netherlands", "Nederland", "31", "EUR", "nl", "nl", ("B.V.", "N.V."),
    (City("Amsterdam", (1011, 1109), "20", 7), City("Rotterdam", (3011, 3089), "10", 7),
     City("Den Haag", (2511, 2597), "70", 7), City("Utrecht", (3511, 3585), "30", 7),
     City("Eindhoven", (5611, 5658), "40", 7), City("Groningen", (9711, 9747), "50", 7)),
    ("Kerkstraat", "Dorpsstraat", "Stationsweg", "Molenweg", "Schoolstraat", "Hoofdstraat", "Julianalaan",
     "Prinsengracht", "Keizersgracht", "Marktplein", "Wilhelminastraat", "Beatrixlaan"),
    ("Emma", "Sophie", "Julia", "Anna", "Lisa", "Eva", "Sanne", "Lotte", "Fleur", "Iris", "Femke", "Noor"),
    ("Daan", "Sem", "Lucas", "Jesse", "Thomas", "Bram", "Ruben", "Lars", "Tim", "Niels", "Sander", "Joost"),
    ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
     "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
     "Brouwer"),
    ("61", "62", "63", "64", "65", "68"), 7, ("Mevr.", "Dhr."),
    ("Logistiek", "Techniek", "Handel", "Diensten", "Systemen", "Installaties", "Bouw", "Groep"),
    "info",
)

COUNTRIES: tuple[Country, ...] = (ES, DE, FR, GB, US, IT, NL)
COUNTRY_WEIGHTS: tuple[tuple[Country, int], ...] = ((ES, 30), (DE, 20), (FR, 12), (GB, 12), (US, 10), (IT, 10),
                                                    (NL, 6))
"""The demo ERP is a Madrid company: most customers are Spanish, the rest European and American."""

BRAND_HEADS = ("Nova", "Tecno", "Alpha", "Euro", "Nord", "Atlas", "Vertex", "Orion", "Delta", "Astra", "Iber",
               "Hansa", "Luma", "Terra", "Aqua", "Sigma", "Omni", "Prime", "Vita", "Agro", "Ferro", "Cargo",
               "Bio", "Electro", "Quanta", "Meta", "Helio", "Arco", "Stella", "Flex", "Pro", "Inter", "Medi",
               "Opti", "Roto", "Silva", "Mare", "Rhein", "Alpen", "Costa", "Sol", "Gala", "Ventura", "Zenit",
               "Polar", "Kappa", "Fortis", "Primo")
BRAND_TAILS = ("tech", "soft", "log", "med", "pack", "tron", "mar", "data", "chem", "bau", "plan", "line", "form",
               "tex", "net", "print", "metal", "flow", "trans", "food", "lux", "vision", "pharm", "care", "plast",
               "steel", "energy", "wood", "glass", "tools", "parts", "works")
QUALIFIERS = ("Iberia", "Europe", "International", "Group", "Holding", "Nord", "Sud", "Central", "Services",
              "Trading", "Digital", "Solutions", "Global", "Partners", "Industrial", "Atlantic", "Mediterranean",
              "Alpine", "Direct", "Pro", "Plus", "One", "Next", "Labs")
"""Brand heads x tails x descriptors give 12,288 unique cores per country; qualifiers extend them
25-fold, so company names stay unique for the first ~300,000 companies of a dataset."""

TITLES = (("Purchasing Manager", "Purchasing"), ("Head of Procurement", "Procurement"), ("CFO", "Finance"),
          ("Accounts Payable Clerk", "Finance"), ("Managing Director", "Management"), ("CEO", "Management"),
          ("Operations Manager", "Operations"), ("IT Manager", "IT"), ("Logistics Coordinator", "Logistics"),
          ("Office Manager", "Administration"), ("Sales Director", "Sales"), ("Buyer", "Purchasing"),
          ("Plant Manager", "Operations"), ("Controller", "Finance"))
PRODUCTS = ("Annual maintenance contract", "Pallet racking", "Spare parts framework", "Fleet telematics",
            "Cold-chain upgrade", "ERP integration services", "Packaging line", "Safety equipment",
            "Warehouse automation", "Service level upgrade", "Consumables supply", "Training programme")
TASK_SUBJECTS = ("Call", "Send Quote", "Send Letter", "Follow up on quote", "Check delivery", "Payment reminder",
                 "Renewal call", "Other")
EVENT_SUBJECTS = ("Meeting", "Site visit", "Product demo", "Quarterly business review", "Contract negotiation")
USER_TITLES = ("Account Executive", "Sales Manager", "Key Account Manager", "Inside Sales Representative",
               "Sales Director", "Business Development Manager")
QUEUE_NAMES = ("Inbound Leads Iberia", "Inbound Leads DACH", "Inbound Leads France", "Inbound Leads UK & US",
               "Partner Leads", "Web Leads")
